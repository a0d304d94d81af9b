package dev.pare.jobs.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ProvenanceTest {
    @Test
    void pareReportsTheProjectVersionFromItsCompiledClassesToo() throws Exception {
        // The parent pom's own version, read from the file (tests run from target/classes: no jar metadata).
        String pom = Files.readString(LocalSpark.repoRoot().resolve("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>pare-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "the parent pom names its version");
        String version = m.group(1);
        assertEquals(version, Provenance.version("dev.pare", "pipeline-jobs"));

        CommandLine cli = PareCli.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        assertEquals(0, cli.execute("--version"));
        assertEquals("pare " + version, out.toString().trim());
    }
}
