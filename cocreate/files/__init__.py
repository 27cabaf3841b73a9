"""Files people upload: content-checked storage (:mod:`.storage`) and the model mixin of the rows
that stand for them (:mod:`.models`)."""
