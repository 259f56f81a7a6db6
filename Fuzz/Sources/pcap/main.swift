import FuzzDriver

// libFuzzer on FuzzHarness's "pcap" target.
fuzz("pcap")
