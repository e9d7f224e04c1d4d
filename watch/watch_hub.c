/* SPDX-License-Identifier: MIT */
/*
 * The hub: the one thread per process that reads inotify for every watched
 * folder.
 *
 * Why one: libinotifytools keeps a single inotify instance and its tables in
 * globals, and its calls work in static buffers (inotifytools_next_events()
 * returns a pointer into one).  It is one instance per process, usable by
 * one thread at a time.  So the hub is created with the first watcher and
 * destroyed with the last; one thread multiplexes every root, and one lock
 * (the hub lock) covers every libinotifytools call and every watch_tree.
 *
 * How it waits: libinotifytools 3.22 does not expose its descriptor, and its
 * own waits count whole seconds (inotifytools_next_event(0) even blocks
 * forever): too coarse for a 50 ms debounce, and unable to wake up for a
 * stop.  So the hub finds the descriptor the library opened (the one new
 * `anon_inode:inotify` in /proc/self/fd across inotifytools_initialize()),
 * poll()s it together with an eventfd, and drains it with
 * inotifytools_next_events(0, 1), which does not block.  An idle hub sleeps
 * in poll() with no timeout; a missing root adds a 200 ms timeout until it
 * is back.  Watches are added and removed with inotify_add_watch() and
 * inotify_rm_watch() on the library's descriptor (watch_tree.c says why not
 * through the library's name table).
 *
 * Callbacks do not run here: the hub only fills each folder's pending batch;
 * each folder's delivery thread (watch.c) runs its callback.
 */
#include "watch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>

struct hub {
    pthread_mutex_t mu; /* the hub lock */
    pthread_t thread;
    int ifd;  /* libinotifytools' descriptor (the library closes it) */
    int evfd; /* wakes the thread for a stop */
    bool stop;
    watch_folder *roots;
};

/* hub_life guards hub and hub_refs: creating and destroying the hub. */
static pthread_mutex_t hub_life = PTHREAD_MUTEX_INITIALIZER;
static struct hub *hub;
static int hub_refs;

#define MAX_INOTIFY_FDS 1024

/* The inotify descriptors open in this process, into fds[0..max); returns
 * their number, or -1 when /proc/self/fd cannot be read. */
static int inotify_fds(int *fds, int max)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        char link[300], target[64];
        if (de->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len < 0)
            continue;
        target[len] = '\0';
        if (strcmp(target, "anon_inode:inotify") == 0)
            fds[n++] = atoi(de->d_name);
    }
    closedir(d);
    return n;
}

static bool fd_in(int fd, const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] == fd)
            return true;
    return false;
}

/* Initialises libinotifytools and finds its descriptor (see the top of the
 * file).  Another thread opening an inotify instance at the same moment
 * makes the result ambiguous; that attempt is undone and retried. */
static watch_status open_inotify(struct hub *h, cd_err *err)
{
    int *before = cd_xmalloc(2 * MAX_INOTIFY_FDS * sizeof *before),
        *after = before + MAX_INOTIFY_FDS;
    watch_status rc = WATCH_EFAIL;
    int found = -1;
    for (int attempt = 0; attempt < 3 && found < 0; attempt++) {
        int nb = inotify_fds(before, MAX_INOTIFY_FDS);
        if (nb < 0) {
            rc = cd_err_set(err, WATCH_EFAIL, "cannot read /proc/self/fd: %s", strerror(errno));
            goto out;
        }
        if (!inotifytools_initialize()) {
            int e = inotifytools_error();
            rc = cd_err_set(err, e == EMFILE ? WATCH_ELIMIT : WATCH_EFAIL,
                            "cannot start inotify: %s (fs.inotify.max_user_instances = %d)",
                            strerror(e), inotifytools_get_max_user_instances());
            goto out;
        }
        int na = inotify_fds(after, MAX_INOTIFY_FDS), nnew = 0;
        for (int i = 0; i < na; i++)
            if (!fd_in(after[i], before, nb) && nnew++ == 0)
                found = after[i];
        if (nnew != 1) {
            found = -1;
            inotifytools_cleanup();
        }
    }
    if (found < 0) {
        rc = cd_err_set(err, WATCH_EFAIL,
                        "cannot find the inotify descriptor of libinotifytools "
                        "(is the library already in use elsewhere in this process?)");
        goto out;
    }
    (void)fcntl(found, F_SETFD, FD_CLOEXEC);
    h->ifd = found;
    rc = WATCH_OK;
out:
    free(before);
    return rc;
}

/* Event dispatch ------------------------------------------------------ */

static void dispatch(struct hub *h, const struct inotify_event *ev)
{
    watch_folder *owner = NULL;
    if (ev->mask & IN_Q_OVERFLOW) {
        for (watch_folder *w = h->roots; w; w = w->next)
            watch_tree_rescan(w, h->ifd);
        return;
    }
    for (watch_folder *w = h->roots; w && !owner; w = w->next)
        if (watch_tree_has(w, ev->wd))
            owner = w;
    if (!owner)
        return; /* a watch just removed, or its IN_IGNORED */
    /* A directory moved from one watched folder to another: the first one
     * must let go of its watches before the second one adds its own (the
     * kernel would hand back the same watch descriptor). */
    if ((ev->mask & (IN_MOVED_TO | IN_ISDIR)) == (IN_MOVED_TO | IN_ISDIR))
        for (watch_folder *w = h->roots; w; w = w->next)
            if (w != owner)
                watch_tree_move_out(w, h->ifd, ev->cookie);
    (void)watch_tree_event(owner, h->ifd, ev);
}

/* Reads every queued event: the kernel's and those libinotifytools already
 * buffered (which poll() cannot see, so the drain must reach NULL).  A
 * directory's IN_MOVED_FROM still unpaired at the end moved out. */
static void drain(struct hub *h)
{
    struct inotify_event *ev;
    while ((ev = inotifytools_next_events(0, 1)) != NULL)
        dispatch(h, ev);
    for (watch_folder *w = h->roots; w; w = w->next) {
        watch_tree_settle(w, h->ifd);
        watch_note_drained(w);
    }
}

/* poll()'s timeout: until the next look for a missing root, or forever. */
static int poll_timeout(const struct hub *h, int64_t now)
{
    int64_t next = -1;
    for (const watch_folder *w = h->roots; w; w = w->next)
        if (w->tree.gone && (next < 0 || w->tree.next_poll_ns < next))
            next = w->tree.next_poll_ns;
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* poll() failed (it cannot with valid arguments, short of memory): no event
 * will be read any more, and every watcher is told so. */
static void hub_failed(struct hub *h, int e)
{
    char msg[128];
    snprintf(msg, sizeof msg, "the inotify thread stopped: poll: %s", strerror(e));
    pthread_mutex_lock(&h->mu);
    for (watch_folder *w = h->roots; w; w = w->next)
        watch_note_flags(w, WATCH_INCOMPLETE, msg);
    pthread_mutex_unlock(&h->mu);
}

static void *hub_main(void *arg)
{
    struct hub *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        bool stop = h->stop;
        int timeout = poll_timeout(h, cd_mono_ns());
        pthread_mutex_unlock(&h->mu);
        if (stop)
            break;
        struct pollfd pfd[2] = {{.fd = h->ifd, .events = POLLIN},
                                {.fd = h->evfd, .events = POLLIN}};
        int n = poll(pfd, 2, timeout);
        if (n < 0 && errno != EINTR) {
            hub_failed(h, errno);
            break;
        }
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t v;
            (void)!read(h->evfd, &v, sizeof v);
        }
        pthread_mutex_lock(&h->mu);
        if (!h->stop) {
            if (n > 0 && (pfd[0].revents & POLLIN))
                drain(h);
            int64_t now = cd_mono_ns();
            for (watch_folder *w = h->roots; w; w = w->next)
                watch_tree_poll(w, h->ifd, now);
        }
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

/* Life of the hub ----------------------------------------------------- */

static void hub_destroy(struct hub *h)
{
    if (h->ifd >= 0)
        inotifytools_cleanup(); /* closes ifd and frees the library's tables */
    if (h->evfd >= 0)
        close(h->evfd);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static watch_status hub_create(struct hub **out, cd_err *err)
{
    struct hub *h = cd_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->ifd = h->evfd = -1;
    watch_status rc = open_inotify(h, err);
    if (rc)
        goto out;
    h->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h->evfd < 0) {
        rc = cd_err_set(err, WATCH_EFAIL, "eventfd: %s", strerror(errno));
        goto out;
    }
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        rc = cd_err_set(err, WATCH_EFAIL, "cannot start the watch thread");
        goto out;
    }
    *out = h;
    return WATCH_OK;
out:
    hub_destroy(h);
    return rc;
}

/* Takes a reference on the hub, creating it if needed. */
static watch_status hub_acquire(struct hub **out, cd_err *err)
{
    watch_status rc = WATCH_OK;
    pthread_mutex_lock(&hub_life);
    if (!hub)
        rc = hub_create(&hub, err);
    if (rc == WATCH_OK) {
        hub_refs++;
        *out = hub;
    }
    pthread_mutex_unlock(&hub_life);
    return rc;
}

static void hub_release(void)
{
    pthread_mutex_lock(&hub_life);
    if (--hub_refs == 0) {
        struct hub *h = hub;
        hub = NULL;
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_mutex_unlock(&h->mu);
        uint64_t one = 1;
        (void)!write(h->evfd, &one, sizeof one);
        pthread_join(h->thread, NULL);
        hub_destroy(h);
    }
    pthread_mutex_unlock(&hub_life);
}

/* The hub while the caller holds a reference (w is attached). */
static struct hub *hub_current(void)
{
    pthread_mutex_lock(&hub_life);
    struct hub *h = hub;
    pthread_mutex_unlock(&hub_life);
    return h;
}

/* Whether path a is b or lies under it. */
static bool path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (strcmp(b, "/") == 0)
        return true;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

watch_status watch_hub_attach(watch_folder *w, cd_err *err)
{
    struct hub *h;
    watch_status rc = hub_acquire(&h, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&h->mu);
    for (watch_folder *o = h->roots; o && rc == WATCH_OK; o = o->next)
        if (path_within(w->path, o->path) || path_within(o->path, w->path))
            rc = cd_err_set(err, WATCH_EFAIL, "%s overlaps %s, which is already watched", w->path,
                            o->path);
    if (rc == WATCH_OK)
        rc = watch_tree_open(w, h->ifd, err);
    if (rc == WATCH_OK) {
        w->next = h->roots;
        h->roots = w;
        w->attached = true;
    }
    pthread_mutex_unlock(&h->mu);
    if (rc)
        hub_release();
    return rc;
}

void watch_hub_detach(watch_folder *w)
{
    struct hub *h = hub_current();
    pthread_mutex_lock(&h->mu);
    for (watch_folder **p = &h->roots; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    watch_tree_close(w, h->ifd);
    w->attached = false;
    pthread_mutex_unlock(&h->mu);
    hub_release();
}

void watch_hub_rescan(watch_folder *w)
{
    struct hub *h = hub_current();
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    if (w->attached) {
        watch_tree_rescan(w, h->ifd);
        if (w->tree.gone)
            watch_tree_poll(w, h->ifd, w->tree.next_poll_ns);
    }
    pthread_mutex_unlock(&h->mu);
}
