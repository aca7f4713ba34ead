#!/usr/bin/env bash
# Acceptance (issue #9, faults), short CI version: the server SIGKILLed at 8
# random moments during a stream of uploads and analyses loses no acknowledged
# upload and leaves no orphan file, blob or row (see bench/fault_kill.sh; the
# 60-kill run recorded in docs/reliability.md is the same script).
exec bash "$(dirname "$0")/../../bench/fault_kill.sh" "${DT_OPS_KILLS:-8}" 12345
