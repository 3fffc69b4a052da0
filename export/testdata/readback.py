"""Read an export back with an independent reader and print its rows.

usage: readback.py READER MANIFEST_OR_URL [S3_ENDPOINT]

READER is pyarrow or duckdb. The manifest (a local path, or for duckdb an
s3:// URL prefix read through DuckDB's httpfs extension, with the AWS_*
variables of the test S3 server) names the files; every row is printed as
one line of canonical text, sorted, so that the Go test compares it with
its own rendering: integers and strings as they are, doubles as the hex of
their IEEE bits, booleans t/f, bytes as hex, timestamps as microseconds
and dates as days since the epoch, NULL as \\N.
"""
import json
import os
import struct
import sys


def canonical(table):
    cols = []
    for name in table.column_names:
        col = table.column(name).to_pylist()
        typ = str(table.schema.field(name).type)
        cols.append([fmt(v, typ) for v in col])
    return sorted("|".join(row) for row in zip(*cols)) if cols else []


def fmt(v, typ):
    import datetime

    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        return struct.pack(">d", v).hex()
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None) - v.utcoffset()
        delta = v - datetime.datetime(1970, 1, 1)
        return str((delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds)
    if isinstance(v, datetime.date):
        return str((v - datetime.date(1970, 1, 1)).days)
    return str(v)


def main():
    reader, where = sys.argv[1], sys.argv[2]
    if reader == "pyarrow":
        import pyarrow.parquet as pq
        import pyarrow as pa

        with open(os.path.join(where, "_manifest.json")) as f:
            manifest = json.load(f)
        tables = [pq.read_table(os.path.join(where, x["name"])) for x in manifest["files"]]
        table = pa.concat_tables(tables)
    elif reader == "duckdb":
        import duckdb
        import duckdb_extension_httpfs

        con = duckdb.connect()
        if where.startswith("s3://"):
            ext = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions",
                               "v" + duckdb.__version__, "httpfs.duckdb_extension")
            con.execute(f"LOAD '{ext}'")
            endpoint = sys.argv[3].split("://", 1)[1]
            con.execute(f"""CREATE SECRET (TYPE s3, KEY_ID '{os.environ["AWS_ACCESS_KEY_ID"]}',
                SECRET '{os.environ["AWS_SECRET_ACCESS_KEY"]}', REGION 'us-east-1', ENDPOINT '{endpoint}',
                URL_STYLE 'path', USE_SSL false)""")
            manifest = json.loads(con.execute(f"SELECT content FROM read_text('{where}_manifest.json')").fetchone()[0])
            files = [where + x["name"] for x in manifest["files"]]
        else:
            with open(os.path.join(where, "_manifest.json")) as f:
                manifest = json.load(f)
            files = [os.path.join(where, x["name"]) for x in manifest["files"]]
        table = con.execute("SELECT * FROM read_parquet(?)", [files]).to_arrow_table()
    else:
        sys.exit("unknown reader " + reader)
    for line in canonical(table):
        print(line)


main()
