"""Adapters: implementations of ``shared.ports`` against Redis, SQL, Cosmos, Service Bus."""
