"""The orchestrator: a small FastAPI service, the only code that talks to Prefect.

It imports no Django and no domain app. Web and workers reach it through
`dalgo.runs.orchestrator_client`; run it with `uvicorn dalgo.orchestrator.app:app`.
"""
