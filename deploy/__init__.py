"""Building and describing the AWS deployment (packages, serverless.yml helpers); never deployed."""
