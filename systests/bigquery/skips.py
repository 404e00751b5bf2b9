"""The only tests of google-cloud-bigquery's system suite we skip, each with its reason.

A rule's ``pattern`` is matched (``fnmatch``, case-sensitive) against the test id below
``tests/system/``, e.g. ``test_client.py::TestBigQuery::test_extract_table``. Rules name services
or data the emulator does not stand in for (Cloud Storage, public datasets, IAM/KMS, Data Catalog,
resource tags, the network layer of the real service) — never a capability the README claims.
Everything not listed here runs, and counts in the pass rate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    pattern: str
    area: str
    reason: str


GCS = "Cloud Storage"
PUBLIC = "public datasets"
IAM = "IAM/KMS"
CATALOG = "Data Catalog"
TAGS = "resource tags"
NETWORK = "real network"

RULES: tuple[Rule, ...] = (
    # Cloud Storage: gs:// loads, extracts and external tables read or write a bucket.
    Rule("test_client.py::*::test_load_avro_from_uri_then_dump_table", GCS, "loads gs:// objects written with google-cloud-storage"),
    Rule("test_client.py::*::test_load_table_from_uri_then_dump_table", GCS, "loads gs:// objects written with google-cloud-storage"),
    Rule("test_client.py::*::test_create_external_table_with_reference_file_schema_uri_*", GCS, "external tables over gs:// objects"),
    Rule("test_client.py::*::test_load_table_from_uri_with_reference_file_schema_uri_*", GCS, "loads gs:// objects"),
    Rule("test_client.py::*::test_extract_table", GCS, "extracts into a bucket"),
    Rule("test_client.py::*::test_load_table_from_file_w_explicit_location", GCS, "extracts into a bucket it creates"),
    # Public datasets: rows of bigquery-public-data and other projects' BigLake tables.
    Rule("test_client.py::*::test_get_dataset_w_public_biglake", PUBLIC, "reads another project's BigLake dataset"),
    Rule("test_client.py::*::test_get_table_w_public_biglake", PUBLIC, "reads another project's BigLake table"),
    Rule("test_client.py::*::test_get_table_w_public_dataset", PUBLIC, "reads bigquery-public-data"),
    Rule("test_client.py::*::test_large_query_w_public_data", PUBLIC, "queries bigquery-public-data"),
    Rule("test_client.py::*::test_list_datasets_w_project", PUBLIC, "lists bigquery-public-data's datasets"),
    Rule("test_client.py::*::test_list_partitions", PUBLIC, "partitions of bigquery-public-data.ethereum_blockchain"),
    Rule("test_client.py::*::test_query_w_page_size", PUBLIC, "queries bigquery-public-data.samples"),
    Rule("test_client.py::*::test_query_w_start_index", PUBLIC, "queries bigquery-public-data.samples"),
    Rule("test_query.py::test_query_statistics*", PUBLIC, "queries bigquery-public-data.samples"),
    Rule("test_pandas.py::test_query_results_to_dataframe", PUBLIC, "queries bigquery-public-data.hacker_news"),
    Rule("test_pandas.py::test_query_results_to_dataframe_w_bqstorage", PUBLIC, "queries bigquery-public-data.hacker_news"),
    Rule("test_pandas.py::test_list_rows_max_results_w_bqstorage", PUBLIC, "reads bigquery-public-data.utility_us"),
    Rule("test_magics.py::test_bigquery_magic", PUBLIC, "queries bigquery-public-data.stackoverflow"),
    # IAM and KMS: permissions and customer-managed keys of a real project.
    Rule("test_client.py::*::test_test_iam_permissions", IAM, "table IAM policies"),
    # Data Catalog policy tags and Resource Manager tags are other services' objects.
    Rule("test_client.py::*::test_create_routine_w_data_governance", CATALOG, "data governance needs Data Catalog masking policies"),
    Rule("test_client.py::*::test_create_table_with_real_custom_policy", CATALOG, "creates a taxonomy with Data Catalog's PolicyTagManagerClient"),
    Rule("test_client.py::*::test_update_dataset", TAGS, "creates Resource Manager tag keys and values to bind"),
    Rule("test_client.py::*::test_update_table", TAGS, "creates Resource Manager tag keys and values to bind"),
)

# --- bqsys-a block (test_client.py, test_list_rows.py, test_job_retry.py, test_structs.py, test_magics.py,
# test_ssl_retry.py). test_ssl_retry.py runs: it mocks the client's transport to raise SSLError itself.
RULES += (
    Rule("test_client.py::*::test_copy_table", PUBLIC, "copies bigquery-public-data.samples.shakespeare"),
    Rule("test_client.py::*::test_dbapi_fetch_w_bqstorage_client_large_result_set", PUBLIC,
         "queries bigquery-public-data.hacker_news"),
    Rule("test_client.py::*::test_dbapi_connection_does_not_leak_sockets", PUBLIC,
         "queries bigquery-public-data.hacker_news"),
    Rule("test_client.py::*::test_dbapi_dry_run_query", PUBLIC, "queries bigquery-public-data.utility_us"),
    Rule("test_client.py::test_dbapi_create_view", PUBLIC, "creates a view over bigquery-public-data.usa_names"),
    Rule("test_client.py::*::test_create_routine", GCS,
         "a JavaScript UDF whose library is imported from gs://cloud-samples-data"),
    Rule("test_client.py::*::test_update_table_autodetect_schema", GCS,
         "autodetects an external table's schema from gs:// Avro files"),
)
