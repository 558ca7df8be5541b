{
  "algorithm": "ed25519",
  "canonical": "kitvet-list-json-v1",
  "key_id": "155229194309568e",
  "kitvet_signature": "1",
  "sha256": "1a358553c123d8aea0a09e5e0934a23f86b716f7ad71ec2da041d7b0678212ea",
  "signature": "hhfqkWYFAvUvYy+byj4XuSQ2erfTvA+bVr2XV2zJX8Ax0W79/amgu4u9sJ1YtirW+9wA6AFJzkryJw4VyMavAw=="
}
