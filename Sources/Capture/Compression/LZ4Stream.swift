import CCompression

/// LZ4 frames (`lz4` files) through liblz4's frame decoder; consecutive frames are read whole.
final class LZ4Stream: StreamDecoder {
    private let context: OpaquePointer
    /// The decoder's hint: bytes still expected for the current frame (0: at a frame's end).
    private var expected = 0
    private var output = [UInt8](repeating: 0, count: decompressedChunk)

    static func make() -> Result<LZ4Stream, DecompressionError> {
        var c: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&c, zw_lz4f_version())) == 0, let c else {
            return .failure(DecompressionError("liblz4 could not start"))
        }
        return .success(LZ4Stream(context: c))
    }

    private init(context: OpaquePointer) { self.context = context }
    deinit { LZ4F_freeDecompressionContext(context) }

    func decode(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Bool) -> Result<Bool, DecompressionError> {
        guard let base = input.baseAddress, !input.isEmpty else { return .success(true) }
        var offset = 0
        while offset < input.count {
            var consumed = input.count - offset
            let (hint, produced) = output.withUnsafeMutableBytes { out -> (Int, Int) in
                var size = out.count
                let hint = LZ4F_decompress(context, out.baseAddress, &size, base + offset, &consumed, nil)
                return (hint, size)
            }
            if LZ4F_isError(hint) != 0 {
                return .failure(DecompressionError("lz4 data is corrupt (\(String(cString: LZ4F_getErrorName(hint))))"))
            }
            offset += consumed
            expected = hint
            if produced > 0, !output.withUnsafeBytes({ emit(UnsafeRawBufferPointer(rebasing: $0[..<produced])) }) { return .success(false) }
            if consumed == 0 && produced == 0 { break }
        }
        return .success(true)
    }

    func finish() -> DecompressionError? {
        expected != 0 ? DecompressionError("the lz4 data ends early (a truncated file)") : nil
    }
}
