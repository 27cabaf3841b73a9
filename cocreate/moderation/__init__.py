"""Reports and moderation, a cross-cutting feature of the core: people report content, moderators hide it
with a reason, restore it, dismiss reports and block accounts, on whatever the components declare reportable
in their manifests (proposals; comments are the core's own).

- :mod:`cocreate.moderation.targets`: the reportable-content registry;
- :mod:`cocreate.moderation.services`: reporting, the queue and the moderators' actions;
- :mod:`cocreate.moderation.routes`: /reports and /moderation.
"""
