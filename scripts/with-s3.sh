#!/usr/bin/env bash
# with-s3.sh COMMAND [ARG...]
#
# Starts a throwaway S3-compatible server (versitygw, posix backend) on a
# free port of 127.0.0.1, creates a bucket, exports the variables the S3
# tests read, runs COMMAND and exits with its status. The server and its
# data are removed on exit, whatever happens.
#
#   DORMOUSE_TEST_S3_ENDPOINT  http://127.0.0.1:PORT
#   DORMOUSE_TEST_S3_BUCKET    the bucket
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#
# The versitygw binary is $VERSITYGW, else .tools/bin/versitygw (make tools),
# else versitygw on PATH.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

vgw=${VERSITYGW:-}
if [[ -z $vgw ]]; then
	if [[ -x $repo/.tools/bin/versitygw ]]; then
		vgw=$repo/.tools/bin/versitygw
	else
		vgw=$(command -v versitygw || true)
	fi
fi
if [[ -z $vgw || ! -x $vgw ]]; then
	echo "with-s3: versitygw not found; run 'make tools' (or set VERSITYGW)" >&2
	exit 1
fi

access=dormouse-test
secret=dormouse-test-secret
bucket=dormouse-test
mkdir -p "$repo/.tools/run"
run=$(mktemp -d "$repo/.tools/run/s3.XXXXXX")
log=$run/versitygw.log
mkdir "$run/data"
pid=

cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_in_use PORT: something accepts connections on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_server: start versitygw on a random free port and wait until it
# accepts connections. Returns 1 if it exited (say, the port was taken in
# the meantime), so the caller can try another port.
start_server() {
	port=$((20000 + RANDOM % 40000))
	if port_in_use "$port"; then
		return 1
	fi
	"$vgw" --access "$access" --secret "$secret" --region us-east-1 \
		--port "127.0.0.1:$port" --quiet posix "$run/data" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do # 10 s
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			pid=
			return 1
		fi
		if port_in_use "$port"; then
			return 0
		fi
		sleep 0.05
	done
	echo "with-s3: versitygw did not accept connections on 127.0.0.1:$port within 10s; its log:" >&2
	cat "$log" >&2
	exit 1
}

started=
for _ in 1 2 3 4 5; do
	if start_server; then
		started=1
		break
	fi
done
if [[ -z $started ]]; then
	echo "with-s3: versitygw failed to start; its last log:" >&2
	cat "$log" >&2
	exit 1
fi

endpoint=http://127.0.0.1:$port

# Create the bucket through the API, which also proves the server answers
# signed requests. Without curl, make it the posix way: a directory.
if command -v curl >/dev/null; then
	code=$(curl -sS -o "$run/create-bucket.out" -w '%{http_code}' -X PUT \
		--aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$endpoint/$bucket") || code=000
	if [[ $code != 200 ]]; then
		echo "with-s3: create bucket $bucket: HTTP $code" >&2
		cat "$run/create-bucket.out" "$log" >&2 2>/dev/null || true
		exit 1
	fi
else
	mkdir "$run/data/$bucket"
fi

export DORMOUSE_TEST_S3_ENDPOINT=$endpoint
export DORMOUSE_TEST_S3_BUCKET=$bucket
export AWS_ACCESS_KEY_ID=$access
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 DORMOUSE_SKIP_S3

echo "with-s3: versitygw at $endpoint, bucket $bucket" >&2

# Not exec: the trap must still stop the server afterwards.
status=0
"$@" || status=$?
exit "$status"
