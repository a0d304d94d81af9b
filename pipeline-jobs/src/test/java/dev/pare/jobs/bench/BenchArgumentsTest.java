package dev.pare.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The benchmark mains' shared command line and the small helpers of the scripts. */
class BenchArgumentsTest {
    @Test
    void everyMainTakesTrainTestAndMasterTheSameWay() {
        FashionMnistBenchmark f = new FashionMnistBenchmark();
        new CommandLine(f).parseArgs("tr.parquet", "te.parquet", "work", "--master", "local[1]", "--kd", "wanda@0.5",
                "--sparsities", "0.5,0.9", "--limit", "100");
        assertEquals("tr.parquet", f.inputs.train);
        assertEquals("te.parquet", f.inputs.test);
        assertEquals("local[1]", f.inputs.master);
        assertEquals(Path.of("work"), f.work);
        assertEquals(List.of(0.5, 0.9), f.sparsities);
        assertEquals(List.of("magnitude", "wanda"), f.criteria);
        assertEquals(100, f.limit);
        assertEquals(0.5, f.alpha);

        PruningBenchmark p = new PruningBenchmark();
        new CommandLine(p).parseArgs("tr", "te", "teacher.zip", "0.1");
        assertEquals("local[2]", p.inputs.master);
        assertEquals("teacher.zip", p.teacherUri);
        assertEquals(0.1, p.fraction);

        DataPruningBenchmark d = new DataPruningBenchmark();
        new CommandLine(d).parseArgs("tr", "te", "teacher.zip", "--master", "spark://h:7077");
        assertEquals("spark://h:7077", d.inputs.master);
        assertEquals("teacher.zip", d.teacherUri);

        // A missing positional argument is a usage error, as for the pare CLI.
        assertEquals(2, new CommandLine(new DataPruningBenchmark()).setErr(new java.io.PrintWriter(
                java.io.Writer.nullWriter())).execute("tr", "te"));
    }

    @Test
    void configurationNamesMatchThePytorchPeers() {
        assertEquals("wanda@0.5", FashionMnistBenchmark.configName("wanda", 0.5));
        assertEquals("magnitude@0.9", FashionMnistBenchmark.configName("magnitude", 0.90));
        assertEquals("wanda@0.75", FashionMnistBenchmark.configName("wanda", 0.75));
        assertTrue(FashionMnistBenchmark.distilled("all", "wanda@0.5"));
        assertFalse(FashionMnistBenchmark.distilled("none", "wanda@0.5"));
        assertTrue(FashionMnistBenchmark.distilled("magnitude@0.7, wanda@0.5", "wanda@0.5"));
        assertFalse(FashionMnistBenchmark.distilled("wanda@0.5", "wanda@0.9"));
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Bench.median(3, 1, 2));
        assertEquals(2.5, Bench.median(4, 1, 3, 2));
        assertTrue(Double.isNaN(Bench.median()));
    }

    @Test
    void pairsKeepEmptyValuesAndRejectMissingNames() {
        assertEquals(Map.of("A", "1", "B", ""), BenchTool.pairs(List.of("A=1", "B="), "--env"));
        assertThrows(CommandLine.ParameterException.class, () -> BenchTool.pairs(List.of("=1"), "--env"));
        assertThrows(CommandLine.ParameterException.class, () -> BenchTool.pairs(List.of("A"), "--env"));
    }

    @Test
    void measurementFilesAreTabSeparatedWithAFixedWidth(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("m.tsv");
        Files.writeString(f, "# workers cores stage\n1\t1\tcalibrate\n\n2\t1\tscore-data\n");
        List<String[]> rows = BenchTool.tsv(f, 3);
        assertEquals(2, rows.size());
        assertEquals("score-data", rows.get(1)[2]);
        Files.writeString(f, "1\t1\n");
        assertThrows(java.io.IOException.class, () -> BenchTool.tsv(f, 3));
        assertEquals("calibration", BenchTool.folder("calibrate"));
        assertEquals("example-scores", BenchTool.folder("score-data"));
    }

    @Test
    void driverLoopsAreTimedOncePassesAreWithinTenPercent() {
        // A warm-up whose last passes read 886, 932, 593 ms is not steady; 366, 367, 380 ms is (380 <= 1.1 x 366).
        assertFalse(FashionMnistBenchmark.isSteady(List.of(0.886, 0.932, 0.593)));
        assertTrue(FashionMnistBenchmark.isSteady(List.of(0.366, 0.367, 0.380)));
        assertTrue(FashionMnistBenchmark.isSteady(List.of(0.100, 0.110, 0.105)));
        assertFalse(FashionMnistBenchmark.isSteady(List.of(0.100, 0.1101, 0.105)));
    }
}
