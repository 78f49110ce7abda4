"""Python client for the Hyperledger Fabric Gateway API."""

__all__: list[str] = []
