#!/usr/bin/env bash
# Verify the build-provenance attestation of every zip of a fetched release: each must have been
# signed by .github/workflows/main.yml of this repository (release.yml, before stage and prod,
# when the repository variable ATTESTATIONS is "enabled"; docs/github-setup.md §6).
#   tools/verify-attestations.sh FOLDER   (GH_REPO=<owner>/<repo>, GH_TOKEN set)
set -euo pipefail
folder=${1:?usage: verify-attestations.sh FOLDER}
shopt -s nullglob
zips=("$folder"/*.zip)
if [ ${#zips[@]} -eq 0 ]; then
  echo "verify-attestations: no zip in $folder" >&2
  exit 2
fi
for zip in "${zips[@]}"; do
  gh attestation verify "$zip" --repo "$GH_REPO" \
    --signer-workflow "$GH_REPO/.github/workflows/main.yml"
done
echo "verified the main.yml provenance of ${#zips[@]} zips" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
