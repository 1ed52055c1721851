"""The S3 destination's documents, checked exactly, on their own."""

from components import aws_policy

BUCKET_ARN = "arn:aws:s3:::acme-recordings"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EIGHT_ACTIONS = [
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListBucketMultipartUploads",
    "s3:AbortMultipartUpload",
    "s3:ListBucketVersions",
    "s3:ListBucket",
    "s3:GetObjectVersion",
    "s3:ListMultipartUploadParts",
]


def test_trust_allows_only_tavus_account_with_external_id():
    assert aws_policy.trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TavusRecordingAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::291871421005:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "tavus"}},
            }
        ],
    }


def test_trust_carries_a_custom_external_id():
    statement = aws_policy.trust_policy("acme-7f3a")["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-7f3a"}}


def test_writer_policy_is_the_eight_actions_on_this_bucket_only():
    assert aws_policy.writer_policy(BUCKET_ARN) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TavusRecordingWrite",
                "Effect": "Allow",
                "Action": EIGHT_ACTIONS,
                "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"],
            }
        ],
    }


def test_writer_policy_with_kms_adds_exactly_data_key_and_decrypt_on_that_key():
    statements = aws_policy.writer_policy(BUCKET_ARN, KEY_ARN)["Statement"]
    assert statements[0]["Action"] == EIGHT_ACTIONS
    assert statements[1:] == [
        {
            "Sid": "TavusRecordingKms",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": KEY_ARN,
        }
    ]


def test_no_statement_grants_delete_or_wildcards():
    for statement in aws_policy.writer_policy(BUCKET_ARN, KEY_ARN)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any("Delete" in action or "*" in action for action in statement["Action"])
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources


def test_bucket_policy_denies_everything_without_tls():
    assert aws_policy.tls_only_bucket_policy(BUCKET_ARN)["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_encryption_is_sse_s3_by_default_and_sse_kms_with_bucket_key_given_a_key():
    assert aws_policy.encryption_rule(None) == {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                                                "blocked_encryption_types": ["SSE-C"]}
    assert aws_policy.encryption_rule(KEY_ARN) == {
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY_ARN},
        "bucket_key_enabled": True,
        "blocked_encryption_types": ["SSE-C"],
    }


def test_lifecycle_expires_noncurrent_versions_and_aborts_uploads_but_keeps_recordings():
    rules = aws_policy.lifecycle_rules(30)
    assert [rule["id"] for rule in rules] == ["expire-noncurrent-versions", "abort-incomplete-multipart-uploads"]
    assert rules[0]["noncurrent_version_expiration"] == {"noncurrent_days": 30}
    assert rules[1]["abort_incomplete_multipart_upload"] == {"days_after_initiation": 7}
    assert all(rule["status"] == "Enabled" and rule["filter"] == {} for rule in rules)
    assert not any("expiration" in rule for rule in rules)


def test_lifecycle_expires_recordings_after_retention_days():
    rules = aws_policy.lifecycle_rules(7, retention_days=90)
    assert rules[-2] == {"id": "expire-recordings", "status": "Enabled", "filter": {}, "expiration": {"days": 90}}
    assert rules[0]["noncurrent_version_expiration"] == {"noncurrent_days": 7}


def test_expired_recordings_leave_no_delete_markers_behind():
    # Expiring a current version in a versioned bucket adds a delete marker; once the versions are
    # gone, only ExpiredObjectDeleteMarker removes it, and S3 takes it only in a rule without Days.
    rules = aws_policy.lifecycle_rules(7, retention_days=90)
    assert rules[-1] == {"id": "remove-expired-delete-markers", "status": "Enabled", "filter": {},
                         "expiration": {"expired_object_delete_marker": True}}
    assert not any(r["id"] == "remove-expired-delete-markers" for r in aws_policy.lifecycle_rules(7))
