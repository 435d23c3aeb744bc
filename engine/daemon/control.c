/*
 * control.c - the daemon's end of the control socket (control.h): the
 * clients, each a small state machine driven by the daemon's poll loop.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "control_socket.h"

/* Connections taken per wake-up, so a flood cannot starve the rest. */
#define ACCEPTS_PER_ROUND 64

enum client_state {
	CLIENT_FREE,
	CLIENT_READING, /* until the newline (or EOF) or the deadline */
	CLIENT_WAITING, /* for a deferred answer: no deadline, no reading */
	CLIENT_WRITING, /* until the answer is out, or the client stops reading */
};

struct client {
	enum client_state state;
	int fd;
	int64_t deadline_ms;       /* CLOCK_MONOTONIC */
	size_t nin;
	char in[VD_CONTROL_MAX_COMMAND];
	char *out;                 /* owned; the whole answer */
	size_t nout, sent;
};

struct vd_control {
	int fd;
	char *path;
	gid_t group;
	struct vd_control_socket_id id;
	struct client clients[VD_CONTROL_MAX_CLIENTS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to a client about to be dropped; never waits, may not arrive. */
static void send_last_words(int fd, const char *line)
{
	ssize_t ignored = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)ignored;
}

static void client_drop(struct client *cl, const char *last_words)
{
	if (last_words)
		send_last_words(cl->fd, last_words);
	close(cl->fd);
	free(cl->out);
	*cl = (struct client){ .state = CLIENT_FREE, .fd = -1 };
}

/* Sends what the socket takes now; drops the client when all is out or the
 * connection failed. Progress moves the deadline: a slow reader of a long
 * answer is served, one that stops reading is dropped. */
static void client_write(struct client *cl)
{
	while (cl->sent < cl->nout) {
		ssize_t n = send(cl->fd, cl->out + cl->sent, cl->nout - cl->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		cl->sent += (size_t)n;
		cl->deadline_ms = now_ms() + VD_CONTROL_CLIENT_TIMEOUT_MS;
	}
	client_drop(cl, NULL);
}

/* Takes text (malloc'ed, len bytes) as the answer and starts sending it. */
static void client_reply(struct client *cl, char *text, size_t len)
{
	cl->out = text;
	cl->nout = len;
	cl->sent = 0;
	cl->state = CLIENT_WRITING;
	cl->deadline_ms = now_ms() + VD_CONTROL_CLIENT_TIMEOUT_MS;
	client_write(cl);
}

static void client_reply_line(struct client *cl, const char *line)
{
	char *copy = strdup(line);

	if (!copy) {
		client_drop(cl, "error: out of memory\n");
		return;
	}
	client_reply(cl, copy, strlen(copy));
}

/* The command line is complete: parse it, ask the handler, answer. */
static void client_command(struct client *cl, size_t len, vd_control_handler handler, void *data)
{
	enum vd_control_command cmd;
	char why[200], line[sizeof(why) + 16], *answer = NULL;
	size_t alen = 0;
	FILE *reply;
	int rc;

	if (vd_control_command_parse(cl->in, len, &cmd, why, sizeof(why)) < 0) {
		snprintf(line, sizeof(line), "error: %s\n", why);
		client_reply_line(cl, line);
		return;
	}
	reply = open_memstream(&answer, &alen);
	if (!reply) {
		client_drop(cl, "error: out of memory\n");
		return;
	}
	rc = handler(cmd, reply, data);
	if (fclose(reply) != 0) {
		free(answer);
		client_drop(cl, "error: out of memory\n");
		return;
	}
	if (rc == VD_CONTROL_DEFERRED) {
		free(answer);
		cl->state = CLIENT_WAITING;
		cl->deadline_ms = INT64_MAX;
		return;
	}
	client_reply(cl, answer, alen);
}

/* Reads what has arrived, up to one line. */
static void client_read(struct client *cl, vd_control_handler handler, void *data)
{
	for (;;) {
		ssize_t n = read(cl->fd, cl->in + cl->nin, sizeof(cl->in) - cl->nin);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			client_drop(cl, NULL);
			return;
		}
		if (n == 0) {
			/* A command without its newline still counts. */
			if (cl->nin)
				client_command(cl, cl->nin, handler, data);
			else
				client_drop(cl, NULL);
			return;
		}
		nl = memchr(cl->in + cl->nin, '\n', (size_t)n);
		cl->nin += (size_t)n;
		if (nl) {
			client_command(cl, (size_t)(nl - cl->in), handler, data);
			return;
		}
		if (cl->nin == sizeof(cl->in)) {
			char line[96];

			snprintf(line, sizeof(line), "error: command longer than %d bytes\n",
				 VD_CONTROL_MAX_COMMAND - 1);
			client_reply_line(cl, line);
			return;
		}
	}
}

static struct client *free_slot(struct vd_control *c)
{
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].state == CLIENT_FREE)
			return &c->clients[i];
	return NULL;
}

static void accept_clients(struct vd_control *c)
{
	for (int round = 0; round < ACCEPTS_PER_ROUND; round++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *cl;
		uid_t uid;

		if (fd < 0)
			return; /* EAGAIN, or a connection that went away */
		cl = free_slot(c);
		if (!cl) {
			char line[96];

			snprintf(line, sizeof(line), "error: busy (%d control clients connected): "
				 "try again\n", VD_CONTROL_MAX_CLIENTS);
			send_last_words(fd, line);
			close(fd);
			continue;
		}
		*cl = (struct client){ .state = CLIENT_READING, .fd = fd,
				       .deadline_ms = now_ms() + VD_CONTROL_CLIENT_TIMEOUT_MS };
		if (!vd_control_socket_peer_allowed(fd, c->group, &uid)) {
			char line[160];

			snprintf(line, sizeof(line), "error: uid %ld may not use this control socket "
				 "(root, uid %ld%s)\n", (long)uid, (long)geteuid(),
				 c->group == (gid_t)-1 ? "" : " and members of --control-group");
			client_reply_line(cl, line);
		}
	}
}

struct vd_control *vd_control_open(const struct vd_control_config *cfg, char *err, size_t errlen)
{
	struct vd_control *c = calloc(1, sizeof(*c));

	if (!c || !(c->path = strdup(cfg->path))) {
		snprintf(err, errlen, "control socket %s: out of memory", cfg->path);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->group = cfg->group;
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++)
		c->clients[i] = (struct client){ .state = CLIENT_FREE, .fd = -1 };
	c->fd = vd_control_socket_open(cfg->path, cfg->group, VD_CONTROL_BACKLOG, &c->id, err,
				       errlen);
	if (c->fd < 0) {
		int saved = errno;

		free(c->path);
		free(c);
		errno = saved;
		return NULL;
	}
	return c;
}

void vd_control_poll_fill(const struct vd_control *c, struct pollfd *fds)
{
	static const short events[] = {
		[CLIENT_FREE] = 0,
		[CLIENT_READING] = POLLIN,
		[CLIENT_WAITING] = 0, /* POLLHUP still tells that it left */
		[CLIENT_WRITING] = POLLOUT,
	};

	fds[0] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++) {
		const struct client *cl = &c->clients[i];

		fds[1 + i] = (struct pollfd){ .fd = cl->fd, .events = events[cl->state] };
	}
}

int vd_control_poll_timeout(const struct vd_control *c)
{
	int64_t next = INT64_MAX, now = now_ms();

	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++) {
		const struct client *cl = &c->clients[i];

		if (cl->state != CLIENT_FREE && cl->deadline_ms < next)
			next = cl->deadline_ms;
	}
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

static void client_handle(struct client *cl, short revents, int64_t now,
			  vd_control_handler handler, void *data)
{
	if (cl->state == CLIENT_READING && (revents & (POLLIN | POLLHUP | POLLERR)))
		client_read(cl, handler, data);
	else if (cl->state == CLIENT_WRITING && (revents & (POLLOUT | POLLHUP | POLLERR)))
		client_write(cl);
	else if (cl->state == CLIENT_WAITING && (revents & (POLLHUP | POLLERR)))
		client_drop(cl, NULL);
	if (cl->state == CLIENT_READING && now >= cl->deadline_ms) {
		char line[96];

		snprintf(line, sizeof(line), "error: no complete command line within %d ms\n",
			 VD_CONTROL_CLIENT_TIMEOUT_MS);
		client_drop(cl, line);
	}
	else if (cl->state == CLIENT_WRITING && now >= cl->deadline_ms)
		client_drop(cl, NULL); /* not reading: no point in a last line */
}

void vd_control_poll_handle(struct vd_control *c, const struct pollfd *fds,
			    vd_control_handler handler, void *data)
{
	int64_t now = now_ms();

	/* The clients first: a slot the listener fills now has no revents yet. */
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->state != CLIENT_FREE && fds[1 + i].fd == cl->fd)
			client_handle(cl, fds[1 + i].revents, now, handler, data);
	}
	if (fds[0].revents & POLLIN)
		accept_clients(c);
}

void vd_control_answer(struct vd_control *c, const char *answer)
{
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].state == CLIENT_WAITING)
			client_reply_line(&c->clients[i], answer);
}

void vd_control_close(struct vd_control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < VD_CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->state != CLIENT_FREE)
			client_drop(cl, cl->state == CLIENT_WAITING ?
					"error: verdictd is stopping before it could answer\n" :
					NULL);
	}
	close(c->fd);
	vd_control_socket_remove(c->path, &c->id);
	free(c->path);
	free(c);
}
