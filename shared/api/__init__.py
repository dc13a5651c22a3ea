"""The HTTP API: one FastAPI app, served by ``func.AsgiFunctionApp`` in Azure and by uvicorn
in the local host."""
