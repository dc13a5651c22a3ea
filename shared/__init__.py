"""Leap Ticketing: the application package behind the function app and the local host.

Dependencies point inward: ``api`` (routes) and the triggers call ``services``; services
talk to the Protocols in ``ports``; ``adapters`` implement those ports against Redis, SQL,
the catalog store, the payments bus and the payment gateway. ``runtime`` wires them.
"""
