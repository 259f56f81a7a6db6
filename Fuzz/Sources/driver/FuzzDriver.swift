import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The FuzzHarness target libFuzzer drives (a C callback cannot capture it).
nonisolated(unsafe) var selected: (@Sendable (UnsafeRawBufferPointer) -> Void)?

/// Runs libFuzzer (LLVMFuzzerRunDriver: the executable keeps its own main, as
/// SwiftPM builds executables) on the FuzzHarness target `name`.
public func fuzz(_ name: String) -> Never {
    selected = FuzzHarness.targets.first { $0.name == name }!.run
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(runDriver(&argc, &argv) { data, count in
        selected!(UnsafeRawBufferPointer(start: data, count: count))
        return 0
    })
}
