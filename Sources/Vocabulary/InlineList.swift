/// A list that keeps its first 16 elements inline and spills the rest to the
/// heap: for the parts of a message and the pairs of evidence, which are
/// almost always few, so that building them allocates nothing.
@frozen
public struct InlineList<Element>: RandomAccessCollection {
    public static var inlineCapacity: Int { 16 }

    @usableFromInline var inline: InlineArray<16, Element>
    @usableFromInline var inlineCount = 0
    @usableFromInline var spilled: [Element] = []

    /// An empty list; `filler` occupies the unused inline slots.
    @inlinable
    public init(filler: Element) { inline = InlineArray(repeating: filler) }

    @inlinable
    public mutating func append(_ element: Element) {
        if inlineCount < Self.inlineCapacity {
            inline[inlineCount] = element
            inlineCount += 1
        } else {
            spilled.append(element)
        }
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { inlineCount + spilled.count }

    @inlinable
    public subscript(i: Int) -> Element { i < inlineCount ? inline[i] : spilled[i - inlineCount] }
}

extension InlineList: Sendable where Element: Sendable {}
