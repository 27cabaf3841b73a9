"""Comments (コメント), a cross-cutting feature of the core: threads one reply deep, likes, an edit window and
soft delete, on whatever the components declare commentable in their manifests (challenges and proposals).

- :mod:`cocreate.comments.targets`: the commentable-target registry (what comments ask of a target);
- :mod:`cocreate.comments.services`: the rules and the pages' view-models;
- :mod:`cocreate.comments.routes`: the pages, each target's under its own page's URL;
- :mod:`cocreate.comments.events`: who hears of a reply or a comment (notification kinds);
- :mod:`cocreate.comments.reportable`: comments as content moderators act on;
- :mod:`cocreate.comments.privacy`: the person's comments in "download my data".
"""
