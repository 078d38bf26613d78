import Synchronization

/// Whether this replica should receive traffic: false from the moment graceful shutdown starts, so `/readyz` turns
/// 503 and the load balancer drains it.
final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func startDraining() { draining.store(true, ordering: .relaxed) }
}
