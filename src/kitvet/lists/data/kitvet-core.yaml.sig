{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "98082cfb1c2ed5ec866d0b1662fd817b716c774eadea0fda3e48b1a1d48cb5d8",
  "signature": "AiVscDP+xU/7B6m8HcZP6p4DlBJKMDshQDUod50cH5SyJK4+mJbhCJkzennPv/Q+XGWB1irZ808UmVYHAO9TBQ=="
}
