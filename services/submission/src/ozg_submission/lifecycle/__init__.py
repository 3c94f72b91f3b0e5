"""submission's core: the submission lifecycle (`machine`), what its events carry (`content`), its
queries (`repository`) and the consumers of other services' events (`handlers`).

The FIT-Connect API (`fitconnect`) and the native intake (`applications`) are adapters on top of it.
"""
