package dev.pare.jobs.support;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/** What tests read from a local Parquet file's footer. */
public final class ParquetFooters {
    private ParquetFooters() {}

    /** The row groups of {@code file}, in file order. */
    public static List<BlockMetaData> rowGroups(Path file) throws IOException {
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toString()), new Configuration()))) {
            return r.getFooter().getBlocks();
        }
    }
}
