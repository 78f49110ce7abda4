"""Operating the Fabric network: topology, processes, channel and chaincode lifecycle."""
