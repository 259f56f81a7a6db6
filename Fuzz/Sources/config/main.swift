import FuzzDriver

// libFuzzer on FuzzHarness's "config" target.
fuzz("config")
