"""The event collector: Segment's HTTP Tracking API (track, identify, page,
batch) landing calls in ``raw.events`` / ``raw.identifies`` in micro-batches,
each acknowledged only once committed. ``segment.py`` is the contract,
``store.py`` the batching and the warehouse writes, ``app.py`` the HTTP side,
``server.py`` runs it, ``client.py`` sends to it (the generator, the demo)."""
