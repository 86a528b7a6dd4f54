"""Deploy-time plumbing: CloudFormation custom resources."""
