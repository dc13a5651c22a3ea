"""Services: the business rules. They depend on ``shared.ports`` only."""
