import{j as r}from"./vendor-dKd0x1-A.js";function o({value:n,label:e}){return r.jsx("pre",{"aria-label":e,tabIndex:0,children:r.jsx("code",{children:JSON.stringify(n,null,2)})})}export{o as J};
