"""Drives a Dormouse Flight SQL server with the Python ADBC driver, as a
Python user would: DB-API cursors, Arrow tables, parameters, bulk ingest.

    python adbc_client.py grpc://HOST:PORT

Prints one line per check and exits non-zero at the first that fails.
"""
import sys

import adbc_driver_flightsql.dbapi as flightsql
import pyarrow as pa


def check(what, got, want):
    if got != want:
        print(f"FAIL {what}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {what}")


def main(uri):
    with flightsql.connect(uri, db_kwargs={"username": "python", "password": "any"}, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE py (k bigint PRIMARY KEY, name text, score double precision) WITH (split_points = '50')")
            cur.execute("INSERT INTO py SELECT x, 'n' || x, x / 4.0 FROM generate_series(1, 100) AS g(x)")

            cur.execute("SELECT k, name, score FROM py")
            table = cur.fetch_arrow_table()
            check("query rows", table.num_rows, 100)
            check("query schema", [(f.name, str(f.type)) for f in table.schema],
                  [("k", "int64"), ("name", "string"), ("score", "double")])
            check("query values", sorted(table.column("k").to_pylist()), list(range(1, 101)))

            cur.execute("SELECT name, score FROM py WHERE k = $1", (42,))
            check("parameterised query", cur.fetchall(), [("n42", 10.5)])
            cur.execute("SELECT count(*) FROM py WHERE k > ?", (90,))
            check("qmark parameters", cur.fetchone(), (10,))

            data = pa.table({
                "id": pa.array([3, 1, 2], pa.int64()),
                "label": pa.array(["c", "a", "b"], pa.large_string()),
                "weight": pa.array([0.5, None, 2.0], pa.float32()),
            })
            check("adbc_ingest create", cur.adbc_ingest("pyingest", data, mode="create"), 3)
            check("adbc_ingest append", cur.adbc_ingest("pyingest", data.slice(0, 1), mode="append"), 1)
            cur.execute("SELECT id, label, weight FROM pyingest ORDER BY id, label")
            check("ingested rows", cur.fetchall(), [(1, "a", None), (2, "b", 2.0), (3, "c", 0.5), (3, "c", 0.5)])
            cur.execute("SELECT row_keys FROM dormouse.tables WHERE table_name = 'pyingest'")
            check("ingested row keys", cur.fetchone(), ("id",))

            try:
                cur.execute("SELECT * FROM nosuch")
                check("missing table fails", "no error", "an error")
            except flightsql.Error as e:
                check("missing table error", "does not exist" in str(e), True)
    print("python adbc: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
