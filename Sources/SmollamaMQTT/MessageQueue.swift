/// A FIFO with O(1) removal at the front (an array and a head index, compacted now and then):
/// the client's outgoing queue can hold tens of thousands of messages during an outage, and
/// `Array.removeFirst` per sent message made draining it quadratic.
struct MessageQueue {
    private var storage: [MQTTOutgoing] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }
    var first: MQTTOutgoing? { head < storage.count ? storage[head] : nil }

    mutating func append(_ message: MQTTOutgoing) { storage.append(message) }

    mutating func prepend(_ message: MQTTOutgoing) {
        if head > 0 {
            head -= 1
            storage[head] = message
        } else {
            storage.insert(message, at: 0)
        }
    }

    mutating func removeFirst() {
        guard head < storage.count else { return }
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
