"""The map of everything (``/map``): what the components place on the ward's map, as layers.

The core knows no feature tables: each component lists its :class:`~cocreate.maps.layers.MapLayer`\\ s in
``Component.map_layers`` (``module:attribute``); the page asks every layer for its public items and shows
them as an accessible list grouped by layer, with a Leaflet map drawn above it when JavaScript runs and the
configured tiles load. See :mod:`cocreate.maps.layers` for what a layer promises.
"""
