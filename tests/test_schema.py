"""Request reading and validation (service/schema.py, service/protocol.py)."""
