"""Regenerate src/dalgo/ingestion/data/connectors.json: every `airbyte-source-*` project on PyPI with
its latest version, summary and home page, NGO favourites first, a category guessed from the name.

    uv run python scripts/connectors_catalog.py [--out PATH] [--concurrency 8]

Lists projects from the PyPI simple index (JSON form), then asks the JSON API for each one
(concurrently, politely: a few at a time, retries with backoff on errors and 429/5xx).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson

SIMPLE_INDEX = "https://pypi.org/simple/"
JSON_API = "https://pypi.org/pypi/{package}/json"
DOCS = "https://docs.airbyte.com/integrations/sources/{slug}"
OUT = Path(__file__).resolve().parents[1] / "src/dalgo/ingestion/data/connectors.json"
USER_AGENT = "dalgo-connectors-catalog/1 (+https://github.com/DalgoT4D)"

FAVOURITES = [
    "commcare",
    "surveycto",
    "avni",
    "kobotoolbox",
    "google-sheets",
    "file",
    "airtable",
    "typeform",
    "salesforce",
    "zoho-crm",
    "google-drive",
    "s3",
    "gcs",
    "postgres",
    "faker",
]
# Latest releases measured as uninstallable here, pinned to the newest that installs and runs:
# airbyte-source-file 0.6.0 depends on smart-open[all]==0.6.0, which does not exist.
PINS = {"file": "0.5.39"}
NAMES = {
    "commcare": "CommCare",
    "surveycto": "SurveyCTO",
    "kobotoolbox": "KoboToolbox",
    "zoho-crm": "Zoho CRM",
    "s3": "S3",
    "gcs": "GCS",
    "file": "File",
    "hubspot": "HubSpot",
    "github": "GitHub",
    "gitlab": "GitLab",
    "mysql": "MySQL",
    "mssql": "Microsoft SQL Server",
    "postgres": "Postgres",
    "mongodb-v2": "MongoDB",
    "youtube-analytics": "YouTube Analytics",
    "linkedin-ads": "LinkedIn Ads",
    "tiktok-marketing": "TikTok Marketing",
    "woocommerce": "WooCommerce",
    "paypal-transaction": "PayPal Transaction",
    "quickbooks": "QuickBooks",
    "sendgrid": "SendGrid",
    "mailchimp": "Mailchimp",
    "bigquery": "BigQuery",
    "dynamodb": "DynamoDB",
    "clickhouse": "ClickHouse",
}
_WORDS = {"api": "API", "crm": "CRM", "sftp": "SFTP", "ftp": "FTP", "ads": "Ads", "io": "IO", "hr": "HR", "cdk": "CDK"}
# First match wins; patterns are searched in the slug, then the summary.
CATEGORIES: list[tuple[str, str]] = [
    (
        "forms & surveys",
        r"commcare|surveycto|avni|kobo|odk|typeform|survey|jotform|formstack|form|qualaroo|wufoo|delighted|surveymonkey|alchemer|google-forms",
    ),
    (
        "spreadsheets & files",
        r"sheets|smartsheet|airtable|^file$|excel|csv|s3|gcs|azure-blob|google-drive|onedrive|sharepoint|sftp|ftp|dropbox|box|notion|coda|faker",
    ),
    (
        "databases",
        r"postgres|mysql|mssql|oracle|mongo|sql|db2|bigquery|snowflake|redshift|clickhouse|dynamodb|firebase|firestore|elasticsearch|redis|cockroach|tidb|teradata|db$|database|kafka|pulsar",
    ),
    (
        "CRM",
        r"salesforce|zoho|hubspot|pipedrive|close-com|copper|freshsales|insightly|crm|zendesk-sell|keap|nutshell|capsule|salesloft|outreach|affinity|attio|agile|civicrm|bloomerang|donor",
    ),
    (
        "marketing",
        r"ads|ad-|marketing|mailchimp|sendgrid|klaviyo|braze|iterable|sendinblue|brevo|mailgun|mailjet|campaign|google-analytics|analytics|facebook|instagram|linkedin|twitter|tiktok|youtube|snapchat|pinterest|search-console|marketo|pardot|activecampaign|customer-io|convertkit|getresponse|omnisend|emarsys|amplitude|mixpanel|posthog|segment|appsflyer|adjust|branch|seo|semrush|reddit",
    ),
    (
        "finance",
        r"stripe|paypal|quickbooks|xero|netsuite|braintree|chargebee|recurly|square|razorpay|paystack|invoice|billing|bill|sage|freshbooks|wave|plaid|finance|bank|coin|crypto|ledger|expense|ramp|brex|zuora|chargify|payment|shopify|woocommerce|commerce|amazon-seller|ebay|etsy|stock|exchange",
    ),
    (
        "HR",
        r"bamboo|workday|greenhouse|lever|gusto|personio|hibob|deel|rippling|namely|workable|recruitee|breezy|harvest|hr|payroll|humaans|factorial|justworks|sap-fieldglass|teamtailor|ashby",
    ),
    (
        "dev tools",
        r"github|gitlab|jira|bitbucket|sentry|pagerduty|opsgenie|datadog|newrelic|circleci|jenkins|linear|asana|trello|clickup|monday|confluence|zendesk|freshdesk|intercom|front|slack|discord|teams|zoom|calendly|okta|auth0|cloudflare|vercel|netlify|docker|kubernetes|statuspage|launchdarkly|postman|gcp|aws|azure|cart|todoist|wrike|basecamp|height|shortcut|pivotal|workramp|help",
    ),
]


def slug_of(package: str) -> str:
    return package.removeprefix("airbyte-source-")


def display_name(slug: str) -> str:
    if slug in NAMES:
        return NAMES[slug]
    return " ".join(_WORDS.get(word, word.capitalize()) for word in slug.split("-"))


def category_of(slug: str, summary: str) -> str:
    for text in (slug, summary.lower()):
        for category, pattern in CATEGORIES:
            if re.search(pattern, text):
                return category
    return "other"


async def list_packages(client: httpx.AsyncClient) -> list[str]:
    response = await _get(client, SIMPLE_INDEX, accept="application/vnd.pypi.simple.v1+json")
    if "json" in response.headers.get("content-type", ""):
        names = {p["name"] for p in orjson.loads(response.content)["projects"]}
    else:  # the HTML form (PEP 503), served by some mirrors and proxies
        names = set(re.findall(r">\s*(airbyte-source-[A-Za-z0-9._-]+)\s*</a>", response.text))
    return sorted(n for n in names if re.fullmatch(r"airbyte-source-[a-z0-9-]+", n.lower()) and n == n.lower())


async def _get(client: httpx.AsyncClient, url: str, *, accept: str = "application/json") -> httpx.Response:
    delay = 1.0
    for attempt in range(6):
        try:
            response = await client.get(url, headers={"Accept": accept})
            if response.status_code == 404:
                return response
            if response.status_code == 429 or response.status_code >= 500:
                raise httpx.HTTPStatusError("retry", request=response.request, response=response)
            response.raise_for_status()
            return response
        except (httpx.TransportError, httpx.HTTPStatusError):
            if attempt == 5:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def describe(client: httpx.AsyncClient, limit: asyncio.Semaphore, package: str) -> dict[str, Any] | None:
    async with limit:
        response = await _get(client, JSON_API.format(package=package))
    if response.status_code == 404:
        return None
    info = orjson.loads(response.content)["info"]
    if info.get("yanked"):
        return None
    slug = slug_of(package)
    summary = (info.get("summary") or "").strip()
    rank = FAVOURITES.index(slug) + 1 if slug in FAVOURITES else None
    return {
        "name": display_name(slug),
        "slug": slug,
        "package": package,
        "version": PINS.get(slug, info["version"]),
        "category": category_of(slug, summary),
        "summary": summary,
        "home_page": info.get("home_page") or (info.get("project_urls") or {}).get("Homepage") or "",
        "requires_python": info.get("requires_python") or "",
        "docs_url": DOCS.format(slug=slug),
        "favourite_rank": rank,
    }


async def build(concurrency: int) -> list[dict[str, Any]]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30, headers={"User-Agent": USER_AGENT}, follow_redirects=True) as client:
        packages = await list_packages(client)
        found = await asyncio.gather(*(describe(client, limit, p) for p in packages))
    entries = [e for e in found if e]
    return sorted(entries, key=lambda e: (e["favourite_rank"] or 10_000, e["name"].lower()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    entries = asyncio.run(build(args.concurrency))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(entries, option=orjson.OPT_INDENT_2) + b"\n")
    favourites = [e["slug"] for e in entries if e["favourite_rank"]]
    print(f"wrote {len(entries)} connectors to {args.out} (favourites found: {', '.join(favourites)})", file=sys.stderr)


if __name__ == "__main__":
    main()
