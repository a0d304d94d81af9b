package dev.pare.common.distill;

import java.io.IOException;
import java.util.Optional;

/** Where a {@link Distiller} keeps its per-epoch checkpoints (a file system in the jobs module). */
public interface CheckpointStore {
    Optional<Checkpoint> latest() throws IOException;

    /** The checkpoint of {@code epoch}, if it was saved and kept. */
    Optional<Checkpoint> at(int epoch) throws IOException;

    void save(Checkpoint checkpoint) throws IOException;
}
