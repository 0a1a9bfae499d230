"""Text utilities shared by alerting and digests: escaping hostile text and near-duplicate clusters."""
