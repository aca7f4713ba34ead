#!/usr/bin/env bash
# Acceptance (issue #9, faults), short CI version: the server SIGKILLed at 8
# random moments during a stream of uploads and analyses loses no acknowledged
# upload, serves back byte for byte (SHA-256 kept by the client) every file it
# acknowledged, and leaves no orphan file, blob or row; the run must
# acknowledge at least 8 uploads and land at least one kill mid-upload and one
# while an analysis is leased (see bench/fault_kill.sh; the 60-kill run
# recorded in docs/reliability.md is the same script).
exec bash "$(dirname "$0")/../../bench/fault_kill.sh" "${DT_OPS_KILLS:-8}" 12345
