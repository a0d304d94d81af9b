package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

class GpuBindingTest {

    @Test
    void theFirstAssignedGpuAddressIsTheDevice() {
        assertEquals(OptionalInt.of(3), GpuBinding.assignedDevice(
                Map.of("gpu", new ResourceInformation("gpu", new String[] {"3", "5"}))));
        assertEquals(OptionalInt.of(0), GpuBinding.assignedDevice(
                Map.of("gpu", new ResourceInformation("gpu", new String[] {" 0 "}))));
    }

    @Test
    void noGpuResourceMeansNoDevice() {
        assertEquals(OptionalInt.empty(), GpuBinding.assignedDevice(Map.of()));
        assertEquals(OptionalInt.empty(), GpuBinding.assignedDevice(null));
        assertEquals(OptionalInt.empty(), GpuBinding.assignedDevice(
                Map.of("fpga", new ResourceInformation("fpga", new String[] {"1"}))));
        assertEquals(OptionalInt.empty(), GpuBinding.assignedDevice(
                Map.of("gpu", new ResourceInformation("gpu", new String[0]))));
    }

    @Test
    void anAddressThatIsNotADeviceNumberIsNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GpuBinding.assignedDevice(
                Map.of("gpu", new ResourceInformation("gpu", new String[] {"GPU-8f2c"}))));
        assertTrue(e.getMessage().contains("'GPU-8f2c'") && e.getMessage().contains("discover-gpus.sh"),
                e.getMessage());
    }

    @Test
    void onTheCpuBackendOutsideATaskNothingIsBound() {
        // The default build has the CPU backend only.
        assertEquals("CpuBackend", GpuBinding.backendName());
        assertFalse(GpuBinding.cudaBackend());
        assertEquals(GpuBinding.NO_DEVICE, GpuBinding.bindTask());
    }
}
