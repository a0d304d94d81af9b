package dev.pare.common.distill;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Checkpoints kept in memory, in save order (benchmarks and tests; runs use a file-system store). */
public final class MemoryCheckpointStore implements CheckpointStore {
    private final List<Checkpoint> saved = new ArrayList<>();

    @Override
    public Optional<Checkpoint> latest() {
        return saved.isEmpty() ? Optional.empty() : Optional.of(saved.get(saved.size() - 1));
    }

    @Override
    public Optional<Checkpoint> at(int epoch) {
        return saved.stream().filter(c -> c.epoch() == epoch).reduce((a, b) -> b);
    }

    @Override
    public void save(Checkpoint checkpoint) {
        saved.add(checkpoint);
    }

    /** Every checkpoint saved, in order. */
    public List<Checkpoint> saved() {
        return List.copyOf(saved);
    }
}
