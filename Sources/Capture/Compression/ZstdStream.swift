import CCompression

/// Zstandard through libzstd's streaming decoder; consecutive frames are read whole.
final class ZstdStream: StreamDecoder {
    private let context: OpaquePointer
    /// Whether the last call ended inside a frame.
    private var inFrame = false
    private var output = [UInt8](repeating: 0, count: decompressedChunk)

    static func make() -> Result<ZstdStream, DecompressionError> {
        guard let c = ZSTD_createDStream() else { return .failure(DecompressionError("libzstd could not start")) }
        return .success(ZstdStream(context: c))
    }

    private init(context: OpaquePointer) { self.context = context }
    deinit { ZSTD_freeDStream(context) }

    func decode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError> {
        guard let base = input.baseAddress, !input.isEmpty else { return .success(true) }
        var source = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        while source.pos < source.size || inFrame {
            let (hint, produced) = output.withUnsafeMutableBytes { out -> (Int, Int) in
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let hint = ZSTD_decompressStream(context, &target, &source)
                return (hint, target.pos)
            }
            if ZSTD_isError(hint) != 0 {
                return .failure(DecompressionError("zstd data is corrupt (\(String(cString: ZSTD_getErrorName(hint))))"))
            }
            inFrame = hint != 0
            if produced > 0, !output.withUnsafeBytes({ emit(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }) { return .success(false) }
            // Input used up and the output not full: the frame needs more input.
            if source.pos == source.size && produced < output.count { break }
        }
        return .success(true)
    }

    func finish() -> DecompressionError? {
        inFrame ? DecompressionError("the zstd data ends early (a truncated file)") : nil
    }
}
