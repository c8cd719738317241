"""The reviewer workbench: a local web app on the same pipeline (``budget-lens serve``).

`templating` renders pages (and the static HTML report of ``check --format html``) from the
Jinja2 templates shipped here; `store` keeps documents, findings and verdicts in the batch SQLite
database; `jobs` checks uploads in worker processes; `app` is the FastAPI application.
"""
