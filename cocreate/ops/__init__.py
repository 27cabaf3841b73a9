"""Operations: backing up and restoring a site (``cocreate backup`` / ``cocreate restore``)."""
