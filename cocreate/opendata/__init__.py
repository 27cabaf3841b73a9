"""Open data (オープンデータ): every component's public datasets, published as CSV, JSON and one zip with a
DCAT catalogue (``/open-data``)."""
