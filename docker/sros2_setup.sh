#!/bin/bash
# SROS2 for V2P (docs/reliability.md, "SROS2"): a keystore with one enclave per node of the launch files, each
# granted exactly its own topics (`v2p security`, from the launch files) and signed with the keystore's
# permissions CA; governance: every topic access-controlled and encrypted, no unauthenticated participant.
#
#   docker compose -f docker/compose.yaml run --rm sim /opt/v2p/docker/sros2_setup.sh
#   V2P_SECURITY=true docker compose -f docker/compose.yaml --profile sim up
#
# Argument: the keystore folder (default $ROS_SECURITY_KEYSTORE, else /opt/v2p/runs/keystore). The permissions
# are for $ROS_DOMAIN_ID (default 0) and the robot's action topic $V2P_ACTION_TOPIC (default /robot/v2p_action),
# as compose.yaml runs them: re-run this after changing either, or a launch file. Existing keys are kept. Your
# controller needs an enclave of its own that may subscribe the action topic (`ros2 security create_enclave`).
set -euo pipefail
KEYSTORE=${1:-${ROS_SECURITY_KEYSTORE:-/opt/v2p/runs/keystore}}
DOMAIN=${ROS_DOMAIN_ID:-0}
ACTION_TOPIC=${V2P_ACTION_TOPIC:-/robot/v2p_action}
LAUNCH=/opt/v2p/launch
GENERATED=$(mktemp -d)
trap 'rm -rf "$GENERATED"' EXIT

[ -d "$KEYSTORE/enclaves" ] || ros2 security create_keystore "$KEYSTORE"
v2p security --domain-id "$DOMAIN" --out "$GENERATED" --json \
  --launch "$LAUNCH/sim.launch.yaml foxglove:=true" \
  --launch "$LAUNCH/robot.launch.yaml action_topic:=$ACTION_TOPIC record_dir:=/opt/v2p/runs/robot_bags" \
  --launch "$LAUNCH/train_from_bags.launch.yaml" > "$GENERATED/written.json"

# S/MIME, clear-signed with SHA-256: what `ros2 security` writes and Fast DDS's access-control plugin verifies.
sign() {
  openssl smime -sign -text -md sha256 -in "$1" -out "$2" \
    -signer "$KEYSTORE/public/permissions_ca.cert.pem" -inkey "$KEYSTORE/private/permissions_ca.key.pem"
  openssl smime -verify -in "$2" -CAfile "$KEYSTORE/public/permissions_ca.cert.pem" -out /dev/null 2>/dev/null
}
cp "$GENERATED/governance.xml" "$KEYSTORE/enclaves/governance.xml"
sign "$KEYSTORE/enclaves/governance.xml" "$KEYSTORE/enclaves/governance.p7s"
enclaves=$(python -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["enclaves"]))' \
  "$GENERATED/written.json")
for enclave in $enclaves; do
  [ -d "$KEYSTORE/enclaves$enclave" ] || ros2 security create_enclave "$KEYSTORE" "$enclave"
  cp "$GENERATED/enclaves$enclave/permissions.xml" "$KEYSTORE/enclaves$enclave/permissions.xml"
  sign "$KEYSTORE/enclaves$enclave/permissions.xml" "$KEYSTORE/enclaves$enclave/permissions.p7s"
  # sros2 links each enclave's governance.p7s to the keystore's; a copied one gets the new governance too
  [ -L "$KEYSTORE/enclaves$enclave/governance.p7s" ] ||
    cp "$KEYSTORE/enclaves/governance.p7s" "$KEYSTORE/enclaves$enclave/governance.p7s"
  echo "enclave $enclave: permissions for its topics, signed"
done
echo "keystore $KEYSTORE ready; run with ROS_SECURITY_ENABLE=true ROS_SECURITY_STRATEGY=Enforce" \
  "ROS_SECURITY_KEYSTORE=$KEYSTORE (compose.yaml: V2P_SECURITY=true)"
