/* lpt_vk_backend.c: the Vulkan backend: instance and device choice, arenas (one VkBuffer
 * each), staging copies, lazily created pipelines with an on-disk VkPipelineCache, command
 * recording with barriers, timestamp profiling, and sticky device loss.
 *
 * Execution model: ops record dispatches into one command buffer; lpt_backend_sync (and any
 * copy to or from the host) submits it and waits on a fence. Descriptor sets come from a pool
 * that is reset after each submission. Teardown runs in reverse order of creation.
 */
#include "lpt_vk.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#define MAX_DEVICES 16
#define MAX_PIPELINES 96
#define DESCRIPTOR_SETS 1024
#define MAX_QUERIES 1024 /* two per profiled dispatch */
#define DUMMY_BYTES 256

typedef struct LptVkBuffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped; /* non-NULL when the memory is host visible and coherent */
} LptVkBuffer;

typedef struct LptVkPipeline {
    const LptVkKernel *kernel;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} LptVkPipeline;

typedef struct LptVkBackend {
    LptBackend base;
    VkInstance instance;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    LptVkLimits limits;
    uint32_t queue_family;
    VkDevice device;
    VkQueue queue;
    VkCommandPool command_pool;
    VkCommandBuffer cmd;
    bool recording;
    uint32_t recorded; /* dispatches and copies in the open command buffer */
    VkFence fence;
    VkDescriptorPool descriptor_pool;
    VkPipelineCache pipeline_cache;
    char cache_path[1024];
    LptVkPipeline pipelines[MAX_PIPELINES];
    int n_pipelines;
    LptVkBuffer staging;
    size_t staging_size;
    LptVkBuffer dummy; /* bound for NULL optional tensors */
    VkQueryPool query_pool;
    uint32_t n_queries;
    const char *query_names[MAX_QUERIES / 2];
    bool lost; /* sticky: set on VK_ERROR_DEVICE_LOST */
    bool inject_lost; /* test hook: the next submission reports device loss */
    VkDebugUtilsMessengerEXT messenger; /* set when validation layers are on */
    unsigned validation_errors;         /* reported by the layers since the last sync */
    char validation_first[384];         /* the first of them */
} LptVkBackend;

static const char *vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult";
    }
}

/* Turns a failed VkResult into an error naming the call and the device; device loss is
 * sticky. */
static LptStatus vk_fail(LptVkBackend *vk, LptError *err, VkResult r, const char *what)
{
    LptStatus code = LPT_ERR_VULKAN;
    if (r == VK_ERROR_DEVICE_LOST) {
        vk->lost = true;
        code = LPT_ERR_DEVICE_LOST;
    } else if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        code = LPT_ERR_OUT_OF_MEMORY;
    }
    return lpt_error_set(err, code, (long)r, "vulkan device '%s': %s failed: %s (%d)",
                         vk->props.deviceName, what, vk_result_name(r), (int)r);
}

#define VK_TRY(vk, err, call)                                                                  \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS)                                                                  \
            return vk_fail(vk, err, r_, #call);                                                \
    } while (0)

static LptStatus check_lost(LptVkBackend *vk, LptError *err)
{
    if (vk->lost)
        return lpt_error_set(err, LPT_ERR_DEVICE_LOST, VK_ERROR_DEVICE_LOST,
                             "vulkan device '%s' was lost earlier; recreate the backend",
                             vk->props.deviceName);
    return LPT_OK;
}

/* ---- instance and device choice -------------------------------------------------------- */

static bool layer_available(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *layers = calloc(n, sizeof *layers);
    if (!layers)
        return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

static bool instance_extension_available(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *exts = calloc(n, sizeof *exts);
    if (!exts)
        return false;
    bool found = false;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, exts) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

/* Creates the instance; with `validation`, enables the Khronos validation layer and the
 * debug-utils extension when both are installed and sets *validating. */
static VkResult create_instance(bool validation, VkInstance *out, bool *validating)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "LPT Studio",
        .applicationVersion = VK_MAKE_VERSION(0, 1, 0),
        .pEngineName = "liblpt",
        .engineVersion = VK_MAKE_VERSION(0, 1, 0),
        .apiVersion = VK_API_VERSION_1_1,
    };
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    bool use_layer = validation && layer_available(layer) &&
                     instance_extension_available(extension);
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = use_layer ? 1 : 0,
        .ppEnabledLayerNames = use_layer ? &layer : NULL,
        .enabledExtensionCount = use_layer ? 1 : 0,
        .ppEnabledExtensionNames = use_layer ? &extension : NULL,
    };
    if (validating)
        *validating = use_layer;
    return vkCreateInstance(&info, NULL, out);
}

static const char *device_type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static int device_preference(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static void describe_device(VkPhysicalDevice pd, int index, LptDeviceInfo *info)
{
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &subgroup};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &subgroup};
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(pd, &basic);
    bool has_driver_props = basic.apiVersion >= VK_API_VERSION_1_2;
    if (has_driver_props)
        props2.pNext = &driver;
    vkGetPhysicalDeviceProperties2(pd, &props2);
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);

    memset(info, 0, sizeof *info);
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", basic.deviceName);
    info->type = device_type_name(basic.deviceType);
    if (has_driver_props)
        snprintf(info->driver, sizeof info->driver, "%s %s", driver.driverName,
                 driver.driverInfo);
    else
        snprintf(info->driver, sizeof info->driver, "driver version 0x%x",
                 basic.driverVersion);
    info->api_version = basic.apiVersion;
    info->vendor_id = basic.vendorID;
    info->device_id = basic.deviceID;
    for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
        if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            info->device_local_bytes += mem.memoryHeaps[i].size;
    info->subgroup_size = subgroup.subgroupSize;
    info->max_shared_memory = basic.limits.maxComputeSharedMemorySize;
    info->preference = device_preference(basic.deviceType);
    if (basic.apiVersion < VK_API_VERSION_1_1)
        info->preference = -1; /* unusable: we need Vulkan 1.1 */
}

int lpt_device_list(LptDeviceInfo *out, int max, LptError *err)
{
    VkInstance instance;
    VkResult r = create_instance(false, &instance, NULL);
    if (r != VK_SUCCESS) {
        lpt_error_set(err, LPT_ERR_NO_DEVICE, (long)r,
                      "no Vulkan driver could be loaded (vkCreateInstance: %s); install "
                      "mesa-vulkan-drivers or your GPU's Vulkan driver",
                      vk_result_name(r));
        return -1;
    }
    uint32_t n = MAX_DEVICES;
    VkPhysicalDevice devices[MAX_DEVICES];
    r = vkEnumeratePhysicalDevices(instance, &n, devices);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        vkDestroyInstance(instance, NULL);
        lpt_error_set(err, LPT_ERR_NO_DEVICE, (long)r, "vkEnumeratePhysicalDevices: %s",
                      vk_result_name(r));
        return -1;
    }
    for (uint32_t i = 0; i < n && (int)i < max; i++)
        describe_device(devices[i], (int)i, &out[i]);
    vkDestroyInstance(instance, NULL);
    return (int)n;
}

/* Picks a device by `want` (index or name substring) or by preference. */
static LptStatus choose_device(VkInstance instance, const char *want, VkPhysicalDevice *out,
                               LptError *err)
{
    uint32_t n = MAX_DEVICES;
    VkPhysicalDevice devices[MAX_DEVICES];
    VkResult r = vkEnumeratePhysicalDevices(instance, &n, devices);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0)
        return lpt_error_set(err, LPT_ERR_NO_DEVICE, (long)r,
                             "no Vulkan device found (install mesa-vulkan-drivers for the "
                             "lavapipe software device, or a GPU driver)");
    LptDeviceInfo infos[MAX_DEVICES];
    for (uint32_t i = 0; i < n; i++)
        describe_device(devices[i], (int)i, &infos[i]);

    int chosen = -1;
    if (want && *want) {
        char *end;
        long idx = strtol(want, &end, 10);
        if (*end == '\0') {
            if (idx < 0 || idx >= (long)n)
                return lpt_error_set(err, LPT_ERR_NO_DEVICE, 0,
                                     "Vulkan device index %ld does not exist (%u device%s: "
                                     "0..%u); see `lpt devices`",
                                     idx, n, n == 1 ? "" : "s", n - 1);
            chosen = (int)idx;
        } else {
            for (uint32_t i = 0; i < n && chosen < 0; i++) {
                for (const char *h = infos[i].name; *h && chosen < 0; h++) {
                    size_t j = 0;
                    while (want[j] && h[j] &&
                           tolower((unsigned char)h[j]) == tolower((unsigned char)want[j]))
                        j++;
                    if (want[j] == '\0')
                        chosen = (int)i;
                }
            }
            if (chosen < 0)
                return lpt_error_set(err, LPT_ERR_NO_DEVICE, 0,
                                     "no Vulkan device's name contains '%s'; see `lpt devices`",
                                     want);
        }
        if (infos[chosen].preference < 0)
            return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                 "Vulkan device %d '%s' supports only Vulkan %u.%u; 1.1 is "
                                 "needed",
                                 chosen, infos[chosen].name,
                                 VK_API_VERSION_MAJOR(infos[chosen].api_version),
                                 VK_API_VERSION_MINOR(infos[chosen].api_version));
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (infos[i].preference >= 0 &&
                (chosen < 0 || infos[i].preference > infos[chosen].preference))
                chosen = (int)i;
        if (chosen < 0)
            return lpt_error_set(err, LPT_ERR_NO_DEVICE, 0,
                                 "no Vulkan device supports Vulkan 1.1");
    }
    *out = devices[chosen];
    return LPT_OK;
}

static int find_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits,
                            VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((type_bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* Creates a buffer. Device memory is preferred; `host` asks for host-visible coherent memory
 * (staging). Device-local memory that is also host visible (lavapipe, integrated GPUs) is
 * mapped so copies skip the staging buffer. */
static LptStatus buffer_create(LptVkBackend *vk, size_t bytes, bool host, LptVkBuffer *out,
                               LptError *err)
{
    memset(out, 0, sizeof *out);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_TRY(vk, err, vkCreateBuffer(vk->device, &info, NULL, &out->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(vk->device, out->buffer, &req);
    const VkMemoryPropertyFlags hv =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = host ? find_memory_type(&vk->mem_props, req.memoryTypeBits, hv)
                    : find_memory_type(&vk->mem_props, req.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hv);
    if (type < 0 && !host)
        type = find_memory_type(&vk->mem_props, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0)
        type = find_memory_type(&vk->mem_props, req.memoryTypeBits, 0);
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VkResult r = vkAllocateMemory(vk->device, &alloc, NULL, &out->memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(vk->device, out->buffer, NULL);
        out->buffer = VK_NULL_HANDLE;
        return vk_fail(vk, err, r, "vkAllocateMemory");
    }
    VK_TRY(vk, err, vkBindBufferMemory(vk->device, out->buffer, out->memory, 0));
    if ((vk->mem_props.memoryTypes[type].propertyFlags & hv) == hv)
        VK_TRY(vk, err, vkMapMemory(vk->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped));
    return LPT_OK;
}

static void buffer_destroy(LptVkBackend *vk, LptVkBuffer *b)
{
    if (b->mapped)
        vkUnmapMemory(vk->device, b->memory);
    if (b->buffer)
        vkDestroyBuffer(vk->device, b->buffer, NULL);
    if (b->memory)
        vkFreeMemory(vk->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

/* ---- pipeline cache on disk ------------------------------------------------------------ */

static void cache_path_init(LptVkBackend *vk)
{
    const char *dir = getenv("LPT_CACHE_DIR");
    char base[768];
    if (dir && *dir) {
        snprintf(base, sizeof base, "%s", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) {
        snprintf(base, sizeof base, "%s/lpt-studio", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        snprintf(base, sizeof base, "%s/.cache/lpt-studio", dir);
    } else {
        vk->cache_path[0] = '\0';
        return;
    }
    /* mkdir -p of the last two levels is enough for the default locations */
    char parent[768];
    snprintf(parent, sizeof parent, "%s", base);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        mkdir(parent, 0755);
    }
    mkdir(base, 0755);
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", vk->props.pipelineCacheUUID[i]);
    snprintf(vk->cache_path, sizeof vk->cache_path, "%s/pipelines-%04x-%04x-%s.bin", base,
             vk->props.vendorID, vk->props.deviceID, uuid);
}

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    void *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n))) {
            if (fread(data, 1, (size_t)n, f) != (size_t)n) {
                free(data);
                data = NULL;
            } else {
                *size = (size_t)n;
            }
        }
    }
    fclose(f);
    return data;
}

/* Writes the pipeline cache next to its final name and renames it into place, so a crash
 * never leaves a half-written cache (Vulkan also validates the header when loading). */
static void cache_save(LptVkBackend *vk)
{
    if (!vk->pipeline_cache || !vk->cache_path[0])
        return;
    size_t size = 0;
    if (vkGetPipelineCacheData(vk->device, vk->pipeline_cache, &size, NULL) != VK_SUCCESS ||
        size == 0)
        return;
    void *data = malloc(size);
    if (!data)
        return;
    if (vkGetPipelineCacheData(vk->device, vk->pipeline_cache, &size, data) == VK_SUCCESS) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", vk->cache_path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            bool ok = fwrite(data, 1, size, f) == size;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, vk->cache_path) != 0)
                remove(tmp);
        }
    }
    free(data);
}

/* ---- backend lifetime ------------------------------------------------------------------ */

/* Validation-layer messages: warnings are printed; errors are printed, counted and make the
 * next synchronisation fail, so a test run with LPT_VK_VALIDATION=1 cannot pass over them. */
static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    LptVkBackend *vk = user;
    bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    fprintf(stderr, "vulkan validation %s: %s\n", error ? "error" : "warning", data->pMessage);
    if (error && vk->validation_errors++ == 0)
        snprintf(vk->validation_first, sizeof vk->validation_first, "%s", data->pMessage);
    return VK_FALSE;
}

static void vk_destroy(LptBackend *be)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    if (vk->device) {
        vkDeviceWaitIdle(vk->device);
        cache_save(vk);
        for (int i = vk->n_pipelines - 1; i >= 0; i--) {
            vkDestroyPipeline(vk->device, vk->pipelines[i].pipeline, NULL);
            vkDestroyPipelineLayout(vk->device, vk->pipelines[i].layout, NULL);
            vkDestroyDescriptorSetLayout(vk->device, vk->pipelines[i].set_layout, NULL);
        }
        if (vk->query_pool)
            vkDestroyQueryPool(vk->device, vk->query_pool, NULL);
        buffer_destroy(vk, &vk->dummy);
        buffer_destroy(vk, &vk->staging);
        if (vk->pipeline_cache)
            vkDestroyPipelineCache(vk->device, vk->pipeline_cache, NULL);
        if (vk->descriptor_pool)
            vkDestroyDescriptorPool(vk->device, vk->descriptor_pool, NULL);
        if (vk->fence)
            vkDestroyFence(vk->device, vk->fence, NULL);
        if (vk->command_pool)
            vkDestroyCommandPool(vk->device, vk->command_pool, NULL);
        vkDestroyDevice(vk->device, NULL);
    }
    if (vk->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                vk->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy_messenger)
            destroy_messenger(vk->instance, vk->messenger, NULL);
    }
    if (vk->instance)
        vkDestroyInstance(vk->instance, NULL);
    free(vk);
}

static LptStatus vk_init(LptVkBackend *vk, const LptBackendOptions *opt, LptError *err)
{
    int validation = opt->validation;
    if (validation < 0) {
        const char *env = getenv("LPT_VK_VALIDATION");
#ifdef LPT_VK_VALIDATION_DEFAULT
        validation = !(env && strcmp(env, "0") == 0);
#else
        validation = env && strcmp(env, "1") == 0;
#endif
    }
    bool validating = false;
    VkResult r = create_instance(validation > 0, &vk->instance, &validating);
    if (r != VK_SUCCESS)
        return lpt_error_set(err, LPT_ERR_NO_DEVICE, (long)r,
                             "no Vulkan driver could be loaded (vkCreateInstance: %s); install "
                             "mesa-vulkan-drivers or your GPU's Vulkan driver",
                             vk_result_name(r));
    if (validating) {
        PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                vk->instance, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_validation_message,
            .pUserData = vk,
        };
        if (create_messenger)
            VK_TRY(vk, err, create_messenger(vk->instance, &mi, NULL, &vk->messenger));
    }
    const char *want = opt->device ? opt->device : getenv("LPT_DEVICE");
    LptStatus st = choose_device(vk->instance, want, &vk->physical, err);
    if (st != LPT_OK)
        return st;

    LptDeviceInfo info;
    describe_device(vk->physical, 0, &info);
    vkGetPhysicalDeviceProperties(vk->physical, &vk->props);
    vkGetPhysicalDeviceMemoryProperties(vk->physical, &vk->mem_props);
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &subgroup};
    vkGetPhysicalDeviceProperties2(vk->physical, &props2);
    const VkPhysicalDeviceLimits *lim = &vk->props.limits;
    vk->limits = (LptVkLimits){
        .subgroup_size = subgroup.subgroupSize,
        .max_shared_memory = lim->maxComputeSharedMemorySize,
        .max_invocations = lim->maxComputeWorkGroupInvocations,
        .max_group_count = {lim->maxComputeWorkGroupCount[0], lim->maxComputeWorkGroupCount[1],
                            lim->maxComputeWorkGroupCount[2]},
        .max_storage_range = lim->maxStorageBufferRange,
        .min_storage_offset_align = lim->minStorageBufferOffsetAlignment,
        .subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                               (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT),
        .timestamp_period_ns = lim->timestampPeriod,
    };

    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &nq, NULL);
    VkQueueFamilyProperties families[32];
    if (nq > 32)
        nq = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &nq, families);
    int family = -1;
    for (uint32_t i = 0; i < nq; i++) { /* prefer a compute queue without graphics */
        if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
            continue;
        if (family < 0 || !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            family = (int)i;
    }
    if (family < 0)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "Vulkan device '%s' has no compute queue", vk->props.deviceName);
    vk->queue_family = (uint32_t)family;
    bool timestamps = families[family].timestampValidBits > 0 && lim->timestampComputeAndGraphics;

    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = vk->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo dev_info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue_info,
    };
    VK_TRY(vk, err, vkCreateDevice(vk->physical, &dev_info, NULL, &vk->device));
    vkGetDeviceQueue(vk->device, vk->queue_family, 0, &vk->queue);

    VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = vk->queue_family,
    };
    VK_TRY(vk, err, vkCreateCommandPool(vk->device, &pool_info, NULL, &vk->command_pool));
    VkCommandBufferAllocateInfo cb_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = vk->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_TRY(vk, err, vkAllocateCommandBuffers(vk->device, &cb_info, &vk->cmd));
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_TRY(vk, err, vkCreateFence(vk->device, &fence_info, NULL, &vk->fence));

    VkDescriptorPoolSize sizes = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                  DESCRIPTOR_SETS * LPT_VK_MAX_BINDINGS};
    VkDescriptorPoolCreateInfo dp_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = DESCRIPTOR_SETS,
        .poolSizeCount = 1,
        .pPoolSizes = &sizes,
    };
    VK_TRY(vk, err, vkCreateDescriptorPool(vk->device, &dp_info, NULL, &vk->descriptor_pool));

    cache_path_init(vk);
    size_t cache_size = 0;
    void *cache_data = vk->cache_path[0] ? read_file(vk->cache_path, &cache_size) : NULL;
    VkPipelineCacheCreateInfo pc_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = cache_data ? cache_size : 0,
        .pInitialData = cache_data,
    };
    r = vkCreatePipelineCache(vk->device, &pc_info, NULL, &vk->pipeline_cache);
    if (r != VK_SUCCESS && cache_data) { /* a stale or damaged file: start empty */
        pc_info.initialDataSize = 0;
        pc_info.pInitialData = NULL;
        r = vkCreatePipelineCache(vk->device, &pc_info, NULL, &vk->pipeline_cache);
    }
    free(cache_data);
    if (r != VK_SUCCESS)
        return vk_fail(vk, err, r, "vkCreatePipelineCache");

    st = buffer_create(vk, DUMMY_BYTES, false, &vk->dummy, err);
    if (st != LPT_OK)
        return st;

    if (opt->profile && timestamps) {
        VkQueryPoolCreateInfo qp_info = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = MAX_QUERIES,
        };
        VK_TRY(vk, err, vkCreateQueryPool(vk->device, &qp_info, NULL, &vk->query_pool));
    }
    vk->base.profile = opt->profile;
    snprintf(vk->base.description, sizeof vk->base.description, "vulkan: %s (%s, %s)",
             info.name, info.type, info.driver);
    return LPT_OK;
}

/* ---- recording and submission ---------------------------------------------------------- */

static LptStatus begin_recording(LptVkBackend *vk, LptError *err)
{
    if (vk->recording)
        return LPT_OK;
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_TRY(vk, err, vkBeginCommandBuffer(vk->cmd, &begin));
    if (vk->query_pool)
        vkCmdResetQueryPool(vk->cmd, vk->query_pool, 0, MAX_QUERIES);
    vk->recording = true;
    vk->recorded = 0;
    vk->n_queries = 0;
    return LPT_OK;
}

/* Adds the timestamps of the finished submission to the profile. */
static void collect_timings(LptVkBackend *vk)
{
    if (!vk->query_pool || vk->n_queries == 0)
        return;
    uint64_t stamps[MAX_QUERIES];
    if (vkGetQueryPoolResults(vk->device, vk->query_pool, 0, vk->n_queries, sizeof stamps,
                              stamps, sizeof(uint64_t),
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
        return;
    for (uint32_t i = 0; i + 1 < vk->n_queries; i += 2) {
        double ns = (double)(stamps[i + 1] - stamps[i]) * vk->limits.timestamp_period_ns;
        lpt_backend_record_timing(&vk->base, vk->query_names[i / 2], ns * 1e-9);
    }
}

/* Submits what was recorded and waits for it; resets the descriptor pool. */
static LptStatus flush(LptVkBackend *vk, LptError *err)
{
    LptStatus st = check_lost(vk, err);
    if (st != LPT_OK || !vk->recording)
        return st;
    vk->recording = false;
    VK_TRY(vk, err, vkEndCommandBuffer(vk->cmd));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &vk->cmd,
    };
    VK_TRY(vk, err, vkQueueSubmit(vk->queue, 1, &submit, vk->fence));
    VkResult waited = vkWaitForFences(vk->device, 1, &vk->fence, VK_TRUE, UINT64_MAX);
    if (vk->inject_lost)
        waited = VK_ERROR_DEVICE_LOST;
    if (waited != VK_SUCCESS)
        return vk_fail(vk, err, waited, "vkWaitForFences (waiting for submitted work)");
    VK_TRY(vk, err, vkResetFences(vk->device, 1, &vk->fence));
    collect_timings(vk);
    VK_TRY(vk, err, vkResetCommandBuffer(vk->cmd, 0));
    VK_TRY(vk, err, vkResetDescriptorPool(vk->device, vk->descriptor_pool, 0));
    return LPT_OK;
}

static LptStatus vk_sync(LptBackend *be, LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptStatus st = flush(vk, err);
    if (st == LPT_OK && vk->validation_errors) {
        st = lpt_error_set(err, LPT_ERR_VULKAN, 0,
                           "vulkan device '%s': the validation layer reported %u error%s; the "
                           "first: %s",
                           vk->props.deviceName, vk->validation_errors,
                           vk->validation_errors == 1 ? "" : "s", vk->validation_first);
        vk->validation_errors = 0;
    }
    return st;
}

static void vk_inject_device_loss(LptBackend *be)
{
    ((LptVkBackend *)be)->inject_lost = true;
}

/* Every dispatch and copy waits for all earlier shader and transfer writes: simple, and on
 * the small graphs we record the cost is one pipeline barrier per op. */
static void barrier_all(LptVkBackend *vk)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(vk->cmd,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         1, &mb, 0, NULL, 0, NULL);
}

static LptStatus get_pipeline(LptVkBackend *vk, const LptVkKernel *k, LptVkPipeline **out,
                              LptError *err)
{
    for (int i = 0; i < vk->n_pipelines; i++)
        if (vk->pipelines[i].kernel == k) {
            *out = &vk->pipelines[i];
            return LPT_OK;
        }
    if (vk->n_pipelines == MAX_PIPELINES)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "kernel '%s': more than %d pipelines", k->name, MAX_PIPELINES);
    LptVkPipeline *p = &vk->pipelines[vk->n_pipelines];
    memset(p, 0, sizeof *p);

    VkDescriptorSetLayoutBinding bindings[LPT_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < k->n_buffers; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dsl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = k->n_buffers,
        .pBindings = bindings,
    };
    VK_TRY(vk, err, vkCreateDescriptorSetLayout(vk->device, &dsl, NULL, &p->set_layout));
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_bytes};
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = k->push_bytes ? 1 : 0,
        .pPushConstantRanges = k->push_bytes ? &range : NULL,
    };
    VkResult r = vkCreatePipelineLayout(vk->device, &pl, NULL, &p->layout);
    if (r != VK_SUCCESS) {
        vkDestroyDescriptorSetLayout(vk->device, p->set_layout, NULL);
        return vk_fail(vk, err, r, "vkCreatePipelineLayout");
    }

    VkShaderModuleCreateInfo sm = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = k->spirv_bytes,
        .pCode = k->spirv,
    };
    VkShaderModule module;
    r = vkCreateShaderModule(vk->device, &sm, NULL, &module);
    if (r == VK_SUCCESS) {
        uint32_t values[3 + LPT_VK_MAX_SPEC];
        VkSpecializationMapEntry entries[3 + LPT_VK_MAX_SPEC];
        uint32_t n_spec = 3 + k->n_spec;
        for (uint32_t i = 0; i < n_spec; i++) {
            values[i] = i < 3 ? k->local_size[i] : k->spec[i - 3];
            entries[i] = (VkSpecializationMapEntry){i, i * 4u, 4};
        }
        VkSpecializationInfo spec = {n_spec, entries, n_spec * 4u, values};
        VkComputePipelineCreateInfo cp = {
            .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                      .module = module,
                      .pName = "main",
                      .pSpecializationInfo = &spec},
            .layout = p->layout,
        };
        r = vkCreateComputePipelines(vk->device, vk->pipeline_cache, 1, &cp, NULL, &p->pipeline);
        vkDestroyShaderModule(vk->device, module, NULL);
    }
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(vk->device, p->layout, NULL);
        vkDestroyDescriptorSetLayout(vk->device, p->set_layout, NULL);
        vk_fail(vk, err, r, "creating the compute pipeline");
        return lpt_error_prefix(err, "kernel '%s'", k->name);
    }
    p->kernel = k;
    vk->n_pipelines++;
    *out = p;
    return LPT_OK;
}

LptStatus lpt_vk_dispatch(LptBackend *be, const LptVkKernel *k, const LptTensor *const *buffers,
                          uint32_t n_buffers, const void *push, uint32_t push_bytes,
                          uint32_t gx, uint32_t gy, uint32_t gz, LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptStatus st = check_lost(vk, err);
    if (st != LPT_OK)
        return st;
    if (n_buffers != k->n_buffers || push_bytes != k->push_bytes || n_buffers > LPT_VK_MAX_BINDINGS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "kernel '%s': called with %u buffers and %u push bytes, declared "
                             "%u and %u",
                             k->name, n_buffers, push_bytes, k->n_buffers, k->push_bytes);
    if (gx == 0 || gy == 0 || gz == 0)
        return LPT_OK; /* nothing to do */
    if (gx > vk->limits.max_group_count[0] || gy > vk->limits.max_group_count[1] ||
        gz > vk->limits.max_group_count[2])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "kernel '%s': dispatch of %u x %u x %u workgroups exceeds the "
                             "limit %u x %u x %u of device '%s'",
                             k->name, gx, gy, gz, vk->limits.max_group_count[0],
                             vk->limits.max_group_count[1], vk->limits.max_group_count[2],
                             vk->props.deviceName);

    VkDescriptorBufferInfo infos[LPT_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < n_buffers; i++) {
        const LptTensor *t = buffers[i];
        if (!t) {
            infos[i] = (VkDescriptorBufferInfo){vk->dummy.buffer, 0, DUMMY_BYTES};
            continue;
        }
        LptVkBuffer *buf = t->arena->impl;
        if (t->offset % vk->limits.min_storage_offset_align != 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "kernel '%s': tensor '%s' starts at byte %zu of arena '%s', not "
                                 "a multiple of the %llu bytes device '%s' allows for a binding "
                                 "(bind it through lpt_vk_aligned_view)",
                                 k->name, t->name ? t->name : "?", t->offset, t->arena->name,
                                 (unsigned long long)vk->limits.min_storage_offset_align,
                                 vk->props.deviceName);
        uint64_t range = t->arena->size - t->offset;
        uint64_t need = (uint64_t)t->count * lpt_dtype_size(t->dtype);
        if (need > vk->limits.max_storage_range)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "kernel '%s': tensor '%s' (%llu bytes) is larger than one "
                                 "storage binding of device '%s' (%llu bytes)",
                                 k->name, t->name ? t->name : "?", (unsigned long long)need,
                                 vk->props.deviceName,
                                 (unsigned long long)vk->limits.max_storage_range);
        if (range > vk->limits.max_storage_range)
            range = vk->limits.max_storage_range & ~(uint64_t)3;
        infos[i] = (VkDescriptorBufferInfo){buf->buffer, t->offset, range};
    }

    LptVkPipeline *p = NULL;
    st = get_pipeline(vk, k, &p, err);
    if (st != LPT_OK)
        return st;
    if ((st = begin_recording(vk, err)) != LPT_OK)
        return st;

    VkDescriptorSetAllocateInfo ds_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = vk->descriptor_pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &p->set_layout,
    };
    VkDescriptorSet set;
    VkResult r = vkAllocateDescriptorSets(vk->device, &ds_info, &set);
    if (r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL) {
        /* the pool is spent: run what was recorded, which resets it, and go on */
        if ((st = flush(vk, err)) != LPT_OK || (st = begin_recording(vk, err)) != LPT_OK)
            return st;
        r = vkAllocateDescriptorSets(vk->device, &ds_info, &set);
    }
    if (r != VK_SUCCESS)
        return vk_fail(vk, err, r, "vkAllocateDescriptorSets");
    VkWriteDescriptorSet writes[LPT_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < n_buffers; i++)
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
    vkUpdateDescriptorSets(vk->device, n_buffers, writes, 0, NULL);

    barrier_all(vk);
    vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0,
                            NULL);
    if (push_bytes)
        vkCmdPushConstants(vk->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    bool timed = vk->query_pool && vk->n_queries + 2 <= MAX_QUERIES;
    if (timed)
        vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, vk->query_pool,
                            vk->n_queries);
    vkCmdDispatch(vk->cmd, gx, gy, gz);
    if (timed) {
        vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, vk->query_pool,
                            vk->n_queries + 1);
        vk->query_names[vk->n_queries / 2] = k->name;
        vk->n_queries += 2;
        if (vk->n_queries + 2 > MAX_QUERIES)
            return flush(vk, err); /* keep every dispatch timed */
    }
    vk->recorded++;
    return LPT_OK;
}

LptTensor lpt_vk_aligned_view(const LptTensor *t, uint32_t *first)
{
    LptTensor v = *t;
    size_t shift = t->offset % LPT_ARENA_ALIGN;
    size_t esize = lpt_dtype_size(t->dtype);
    v.offset -= shift;
    v.count += shift / esize;
    *first = (uint32_t)(shift / esize);
    return v;
}

const LptVkLimits *lpt_vk_limits(const LptBackend *be)
{
    return &((const LptVkBackend *)be)->limits;
}

/* ---- arenas and host copies ------------------------------------------------------------ */

static LptStatus vk_arena_init(LptBackend *be, LptArena *arena, LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptStatus st = check_lost(vk, err);
    if (st != LPT_OK)
        return st;
    LptVkBuffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
    st = buffer_create(vk, arena->size, false, buf, err);
    if (st != LPT_OK) {
        buffer_destroy(vk, buf);
        free(buf);
        return st;
    }
    arena->impl = buf;
    return LPT_OK;
}

static void vk_arena_release(LptBackend *be, LptArena *arena)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptVkBuffer *buf = arena->impl;
    if (!buf)
        return;
    if (!vk->lost) {
        LptError ignored;
        flush(vk, &ignored); /* recorded work may still use the buffer */
    }
    buffer_destroy(vk, buf);
    free(buf);
    arena->impl = NULL;
}

static LptStatus ensure_staging(LptVkBackend *vk, size_t bytes, LptError *err)
{
    if (vk->staging_size >= bytes)
        return LPT_OK;
    buffer_destroy(vk, &vk->staging);
    vk->staging_size = 0;
    size_t size = bytes < (1u << 20) ? (1u << 20) : bytes;
    LptStatus st = buffer_create(vk, size, true, &vk->staging, err);
    if (st != LPT_OK)
        return st;
    if (!vk->staging.mapped)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "vulkan device '%s' has no host-visible memory for copies",
                             vk->props.deviceName);
    vk->staging_size = size;
    return LPT_OK;
}

/* Records one buffer copy and runs it (with everything recorded before it). */
static LptStatus copy_now(LptVkBackend *vk, VkBuffer src, size_t src_off, VkBuffer dst,
                          size_t dst_off, size_t bytes, LptError *err)
{
    LptStatus st = begin_recording(vk, err);
    if (st != LPT_OK)
        return st;
    barrier_all(vk);
    VkBufferCopy region = {src_off, dst_off, bytes};
    vkCmdCopyBuffer(vk->cmd, src, dst, 1, &region);
    barrier_all(vk);
    vk->recorded++;
    return flush(vk, err);
}

static LptStatus vk_upload(LptBackend *be, const LptTensor *t, const void *host, size_t bytes,
                           LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptVkBuffer *buf = t->arena->impl;
    LptStatus st = flush(vk, err); /* earlier work may still read the old contents */
    if (st != LPT_OK || bytes == 0)
        return st;
    if (buf->mapped) {
        memcpy((char *)buf->mapped + t->offset, host, bytes);
        return LPT_OK;
    }
    if ((st = ensure_staging(vk, bytes, err)) != LPT_OK)
        return st;
    memcpy(vk->staging.mapped, host, bytes);
    return copy_now(vk, vk->staging.buffer, 0, buf->buffer, t->offset, bytes, err);
}

static LptStatus vk_download(LptBackend *be, const LptTensor *t, void *host, size_t bytes,
                             LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptVkBuffer *buf = t->arena->impl;
    LptStatus st = flush(vk, err);
    if (st != LPT_OK || bytes == 0)
        return st;
    if (buf->mapped) {
        memcpy(host, (char *)buf->mapped + t->offset, bytes);
        return LPT_OK;
    }
    if ((st = ensure_staging(vk, bytes, err)) != LPT_OK)
        return st;
    if ((st = copy_now(vk, buf->buffer, t->offset, vk->staging.buffer, 0, bytes, err)) != LPT_OK)
        return st;
    memcpy(host, vk->staging.mapped, bytes);
    return LPT_OK;
}

static LptStatus vk_fill_u32(LptBackend *be, const LptTensor *t, uint32_t word, LptError *err)
{
    LptVkBackend *vk = (LptVkBackend *)be;
    LptVkBuffer *buf = t->arena->impl;
    LptStatus st = check_lost(vk, err);
    if (st != LPT_OK || t->count == 0)
        return st;
    if ((st = begin_recording(vk, err)) != LPT_OK)
        return st;
    barrier_all(vk);
    vkCmdFillBuffer(vk->cmd, buf->buffer, t->offset, t->count * 4, word);
    vk->recorded++;
    return LPT_OK;
}

static const LptBackendVtable vk_vtable = {
    .destroy = vk_destroy,
    .arena_init = vk_arena_init,
    .arena_release = vk_arena_release,
    .upload = vk_upload,
    .download = vk_download,
    .fill_u32 = vk_fill_u32,
    .sync = vk_sync,
    .inject_device_loss = vk_inject_device_loss,
    .gemm_forward = lpt_vk_gemm_forward,
    .bias_backward = lpt_vk_bias_backward,
    .layernorm_forward = lpt_vk_layernorm_forward,
    .layernorm_backward = lpt_vk_layernorm_backward,
    .l2norm_forward = lpt_vk_l2norm_forward,
    .l2norm_backward = lpt_vk_l2norm_backward,
    .gelu_forward = lpt_vk_gelu_forward,
    .gelu_backward = lpt_vk_gelu_backward,
    .quick_gelu_forward = lpt_vk_quick_gelu_forward,
    .quick_gelu_backward = lpt_vk_quick_gelu_backward,
    .relu_forward = lpt_vk_relu_forward,
    .relu_backward = lpt_vk_relu_backward,
    .add_forward = lpt_vk_add_forward,
    .softmax_forward = lpt_vk_softmax_forward,
    .softmax_backward = lpt_vk_softmax_backward,
    .attention_forward = lpt_vk_attention_forward,
    .attention_backward = lpt_vk_attention_backward,
    .cosine_forward = lpt_vk_cosine_forward,
    .cosine_backward = lpt_vk_cosine_backward,
    .agcl_forward = lpt_vk_agcl_forward,
    .agcl_backward = lpt_vk_agcl_backward,
    .sgd_update = lpt_vk_sgd_update,
    .adamw_update = lpt_vk_adamw_update,
    .gather_mean_forward = lpt_vk_gather_mean_forward,
    .gather_mean_backward = lpt_vk_gather_mean_backward,
    .topk_forward = lpt_vk_topk_forward,
    .image_transform_forward = lpt_vk_image_transform_forward,
    .patchify_forward = lpt_vk_patchify_forward,
    .embed_forward = lpt_vk_embed_forward,
    .scaled_add_forward = lpt_vk_scaled_add_forward,
    .scaled_add_backward = lpt_vk_scaled_add_backward,
    .onehot_forward = lpt_vk_onehot_forward,
    .dropout_forward = lpt_vk_dropout_forward,
};

LptBackend *lpt_vk_backend_new(const LptBackendOptions *opt, LptError *err)
{
    LptVkBackend *vk = calloc(1, sizeof *vk);
    if (!vk) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vulkan backend: out of host memory");
        return NULL;
    }
    vk->base.kind = LPT_BACKEND_VULKAN;
    vk->base.vt = &vk_vtable;
    if (vk_init(vk, opt, err) != LPT_OK) {
        vk_destroy(&vk->base);
        return NULL;
    }
    return &vk->base;
}
