export const id = 339;
export const ids = [339];
export const modules = {

/***/ 6339:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   upsertComment: () => (/* binding */ upsertComment)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(542);
/* harmony import */ var _datagouv_http_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8912);
/**
 * The pull request's comment through @actions/github's octokit, the one module that imports it:
 * comment.ts loads it with `import()` only when a comment is to be written, so a publication that
 * writes none never loads octokit (start-up memory in BENCHMARKS.md).
 */


/**
 * One comment per publication: the oldest comment holding the marker is updated in place, else
 * one is created; any other holding it (two runs that both created one) is deleted.
 */
async function upsertComment(request) {
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(request.token, {
        baseUrl: request.apiUrl.replace(/\/+$/, ''),
        userAgent: request.userAgent,
        ...(request.http !== undefined ? { request: { fetch: fetchThrough(request.http) } } : {}),
    });
    const where = { owner: request.owner, repo: request.repo };
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        ...where,
        issue_number: request.number,
        per_page: 100,
    });
    const ours = comments
        .filter((c) => c.body?.includes(request.marker) === true)
        .sort((a, b) => a.id - b.id);
    const [kept, ...extra] = ours;
    const written = kept === undefined
        ? await octokit.rest.issues.createComment({
            ...where,
            issue_number: request.number,
            body: request.body,
        })
        : await octokit.rest.issues.updateComment({
            ...where,
            comment_id: kept.id,
            body: request.body,
        });
    for (const comment of extra)
        await octokit.rest.issues.deleteComment({ ...where, comment_id: comment.id });
    return {
        action: kept === undefined ? 'created' : 'updated',
        url: written.data.html_url,
        removed: extra.length,
    };
}
/**
 * The fetch octokit calls, over `http`: its requests are small JSON ones (a string body or none),
 * and its answers are read whole.
 */
function fetchThrough(http) {
    return async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : input);
        const headers = {};
        new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
        const body = init?.body;
        if (body !== undefined && body !== null && typeof body !== 'string')
            throw new TypeError('only text bodies are sent to the GitHub API');
        const response = await http.request({
            method: init?.method ?? 'GET',
            url,
            headers,
            ...(typeof body === 'string' ? { body } : {}),
            timeoutMs: 60_000,
        });
        const answer = new Headers();
        for (const [name, value] of Object.entries(response.headers))
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
                answer.append(name, one);
        const status = response.statusCode;
        const text = await (0,_datagouv_http_js__WEBPACK_IMPORTED_MODULE_1__/* .readText */ .yR)(response.body);
        return new Response([101, 204, 205, 304].includes(status) ? null : text, {
            status,
            headers: answer,
        });
    };
}


/***/ })

};
