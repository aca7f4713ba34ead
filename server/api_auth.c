/*
 * api_auth.c — owns who-am-I, browser login/logout, and the token resource
 * (create, list, revoke).
 *
 * A browser session is a random 256-bit id in an HttpOnly, SameSite=Strict
 * cookie; the store keeps only its hash and the token it stands for, so
 * revoking the token ends its sessions too.  A failed login counts as a
 * failed credential guess of the client's address (ratelimit.h); while the
 * address backs off, logins get 429 without the token being looked at.
 * Listing never returns a secret: the store holds only hashes anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "ratelimit.h"

#define SESSION_TTL (12 * 3600)

enum MHD_Result dt_api_me(dt_request *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", dt_role_name(r->who.role));
    cJSON_AddBoolToObject(o, "upload_open", r->srv->cfg.upload_open);
    /* What the upload page checks before sending (upload.c's text limit). */
    cJSON *lim = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddNumberToObject(lim, "max_part_size", (double)r->srv->cfg.max_part_size);
    cJSON_AddNumberToObject(lim, "max_request_size", (double)r->srv->cfg.max_request_size);
    cJSON_AddNumberToObject(lim, "text_field_bytes", 2048);
    return dt_http_json(r, 200, o);
}

static const char *body_string(dt_request *r, cJSON *root, const char *name)
{
    (void)r;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum MHD_Result dt_api_login(dt_request *r)
{
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    const char *token = body_string(r, root, "token");
    if (!token) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"token\":\"…\"}");
    }
    dt_store *st = dt_http_store(r);
    if (!st) {
        cJSON_Delete(root);
        return dt_http_error(r, 503, "busy", "the store is not available");
    }
    int64_t id = 0;
    dt_role role = dt_store_token_lookup(st, token, &id);
    cJSON_Delete(root);
    if (role == DT_ROLE_ANONYMOUS) {
        dt_http_auth_failed(r, DT_AUTH_LOGIN);
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    }
    char session[65];
    dt_error err = { 0 };
    if (dt_store_session_create(st, id, SESSION_TTL, session, &err) != DT_OK)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    char cookie[200];
    snprintf(cookie, sizeof cookie, "dt_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", session,
             SESSION_TTL, r->srv->cfg.cookie_secure ? "; Secure" : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", dt_role_name(role));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    return dt_http_reply(r, 200, resp);
}

enum MHD_Result dt_api_logout(dt_request *r)
{
    const char *session = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "dt_session");
    dt_store *st = session ? dt_http_store(r) : NULL;
    if (st)
        dt_store_session_delete(st, session);
    char *text = strdup("{\"role\":\"anonymous\"}");
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Set-Cookie", "dt_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return dt_http_reply(r, 200, resp);
}

static enum MHD_Result create_token(dt_request *r)
{
    cJSON *root = r->body ? cJSON_Parse(r->body) : NULL;
    const char *role_s = body_string(r, root, "role");
    const char *name = body_string(r, root, "name");
    dt_role role = !role_s || strcmp(role_s, "uploader") == 0 ? DT_ROLE_UPLOADER
                 : strcmp(role_s, "staff") == 0 ? DT_ROLE_STAFF : DT_ROLE_ANONYMOUS;
    if (role == DT_ROLE_ANONYMOUS || (name && strlen(name) > 200)) {
        cJSON_Delete(root);
        return dt_http_error(r, 400, "bad_request", "send {\"role\":\"uploader|staff\",\"name\":\"…\"}");
    }
    char token[80];
    int64_t id = 0;
    dt_error err = { 0 };
    dt_status s = dt_store_token_create(dt_http_store(r), role, name, NULL, token, sizeof token, &id, &err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "role", dt_role_name(role));
    cJSON_AddStringToObject(o, "name", name ? name : "");
    cJSON_AddStringToObject(o, "token", token);
    cJSON_Delete(root);
    if (s != DT_OK) {
        cJSON_Delete(o);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    return dt_http_json(r, 201, o);
}

/* /api/tokens (POST: create, GET: list) and /api/tokens/{id} (DELETE:
 * revoke), staff only. */
enum MHD_Result dt_api_tokens(dt_request *r, const char *rest)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "tokens need a staff token");
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "only staff may manage tokens");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (!*rest || strcmp(rest, "/") == 0) {
        if (strcmp(r->method, "POST") == 0)
            return create_token(r);
        if (!get)
            return dt_http_error(r, 405, "method_not_allowed", "use GET or POST");
        dt_error err = { 0 };
        cJSON *list = dt_store_token_list(st, &err);
        return list ? dt_http_json(r, 200, list) : dt_http_error(r, 500, "internal", "%s", err.message);
    }
    char *end;
    long long id = strtoll(rest + 1, &end, 10);
    if (end == rest + 1 || *end || id <= 0)
        return dt_http_error(r, 404, "not_found", "no such token");
    if (strcmp(r->method, "DELETE") != 0)
        return dt_http_error(r, 405, "method_not_allowed", "use DELETE");
    dt_error err = { 0 };
    dt_status s = dt_store_token_revoke(st, id, &err);
    if (s == DT_ERR_NOT_FOUND)
        return dt_http_error(r, 404, "not_found", "no such token");
    if (s != DT_OK)
        return dt_http_error(r, 500, "internal", "%s", err.message);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddBoolToObject(o, "revoked", 1);
    return dt_http_json(r, 200, o);
}
