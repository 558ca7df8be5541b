{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "ce31244b488809be35a752643bdb1a59823ca18036120f757d0d58713cb13c6f",
  "signature": "v/SyH7wGZN/OUTFzpXx/TUSut77o+pDEBxJCrrMnvg78F/3scj5ndRPeGm4aFGC5r1tsQ4gtJEFSM5IqksT3Aw=="
}
