import FuzzDriver

// libFuzzer on FuzzHarness's "packets" target.
fuzz("packets")
