import Testing

@testable import TokenMint

/// 1,000 replicas over a simulated hour (``FleetSimulation``): the real refresh policy and lock algorithm on an
/// in-memory Redis, with a 5-minute outage in the middle. The figures are printed; the bounds are what must hold.
@Suite struct FleetSimulationTests {
    @Test func aThousandReplicasOverAnHourMintOncePerRoundAndRejoinAfterAnOutage() async {
        let outage = 1800.0..<2100.0
        let simulation = FleetSimulation(outage: outage)
        let started = ContinuousClock.now
        let report = await simulation.run()
        let elapsed = ContinuousClock.now - started
        let window = Double(simulation.timing.windowSeconds)
        let rounds = report.rounds(window: window)
        // Rounds that began before the outage, or after Redis was back and the fleet had rejoined.
        let rejoined = outage.upperBound + Double(RefreshPolicy.sharedMaximumBackoff.components.seconds) + 1
        func isHealthy(_ round: (start: Double, mints: Int)) -> Bool {
            round.start + window / 2 < outage.lowerBound || round.start > rejoined
        }
        let healthy = rounds.filter(isHealthy)
        let degraded = rounds.filter { !isHealthy($0) }
        let perWindow = report.commandsPerWindow(window: window, duration: simulation.duration)
        let replicas = Double(simulation.replicas)
        print(
            """
            simulation: \(simulation.replicas) replicas, \(Int(simulation.duration)) s, TTL \
            \(simulation.timing.ttlSeconds) s, MIN \(simulation.timing.minRemainingSeconds) s, outage \
            \(Int(outage.lowerBound))-\(Int(outage.upperBound)) s; ran in \(elapsed)
            simulation: \(report.mints.count) mints in \(rounds.count) rounds; healthy rounds \(healthy.count), \
            mints per healthy round \(healthy.map(\.mints)); during the outage \(degraded.map(\.mints))
            simulation: Redis commands per \(Int(window)) s window \(perWindow) \
            (per replica \(perWindow.map { (Double($0) / replicas * 10).rounded() / 10 })); per replica over the \
            hour: min \(report.commandsPerReplica.min() ?? 0), max \(report.commandsPerReplica.max() ?? 0); \
            connections refused in the outage \(report.refused) (\(Double(report.refused) / replicas) per replica)
            simulation: longest time a replica served its own mint \(report.longestOwnServing) s; fleet on one \
            token again \(report.convergedAfterOutage.map { "\($0) s" } ?? "never") after Redis returned
            """
        )
        #expect(report.unservableSamples == 0, "every replica always had a servable token")
        #expect(rounds.first?.mints == 1, "a fleet starting together mints once")
        #expect(healthy.count >= 18)
        #expect(healthy.allSatisfy { $0.mints == 1 }, "one mint per round with Redis up: \(healthy.map(\.mints))")
        // Degraded: each replica mints its own at most once per window of the outage, plus one rejoin mint.
        let outageWindows = ((outage.upperBound - outage.lowerBound) / 156).rounded(.up) + 1
        #expect(degraded.reduce(0) { $0 + $1.mints } <= simulation.replicas * Int(outageWindows) + 1)
        // With Redis up, about one GET per replica per round (1-2 rounds a window), a handful for the winner.
        let healthyWindows = perWindow.indices.filter {
            let start = Double($0) * window
            return start + window <= outage.lowerBound || start >= rejoined
        }
        for index in healthyWindows {
            #expect(Double(perWindow[index]) / replicas <= 2.5, "window \(index): \(perWindow[index]) commands")
        }
        #expect((report.commandsPerReplica.max() ?? 0) <= 40)
        // The outage has one backoff (1 s doubling to 30 s): at most about 6 + 300 / 15 attempts per replica.
        #expect(Double(report.refused) / replicas <= 26)
        let longestAllowed = outage.upperBound - outage.lowerBound + 30 + 2 * simulation.sampleInterval
        #expect(report.longestOwnServing <= longestAllowed)
        let converged = try? #require(report.convergedAfterOutage)
        #expect((converged ?? .infinity) <= 31, "back on one shared token within one maximum backoff")
    }
}
