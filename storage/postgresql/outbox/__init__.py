"""The delivery outbox on PostgreSQL (the SQLite twin: ``storage.outbox``): planning
(``planning``), sending with claims and leases (``sending``) and each target's health
(``health``), together as ``PgDeliveryRepository`` (``repository``)."""
